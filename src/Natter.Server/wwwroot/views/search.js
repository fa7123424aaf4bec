// The search dialog (Ctrl/Cmd+K or "/"): a box, the results with their room, sender and time, and the words that
// matched marked. Message text goes in only as text nodes and <mark> elements, never as HTML.

import { store } from '../state.js';
import { avatar, h } from './dom.js';

const $ = (id) => document.getElementById(id);
const whenFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeFmt = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });

// What a word is, as the server decides it (docs/search.md): decomposed (NFKD), combining marks dropped,
// lower-cased, runs of letters and decimal digits.
const fold = (s) => s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();

/** The words of a query, as the server will match them. */
export const queryWords = (q) => fold(q).match(/[\p{L}\p{Nd}]+/gu) ?? [];

/**
 * The text as nodes: each word of the text that starts with a query word has that start in a <mark>. A word of the
 * original text keeps its combining marks, so the mark never splits a letter from its accent.
 */
export function markedText(text, words) {
  const nodes = [];
  let last = 0;
  for (const m of text.matchAll(/[\p{L}\p{Nd}\p{M}]+/gu)) {
    const word = m[0];
    const folded = fold(word);
    const hit = words.filter((w) => folded.startsWith(w)).sort((a, b) => b.length - a.length)[0];
    if (!hit) continue;
    // The shortest start of the original word that folds to the hit, then any marks that belong to its last letter.
    const chars = Array.from(word);
    let k = 1;
    while (k < chars.length && fold(chars.slice(0, k).join('')).length < hit.length) k++;
    while (k < chars.length && /\p{M}/u.test(chars[k])) k++;
    const start = m.index;
    const marked = chars.slice(0, k).join('');
    if (start > last) nodes.push(document.createTextNode(text.slice(last, start)));
    nodes.push(h('mark', { text: marked }));
    last = start + marked.length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

function when(ts) {
  const d = new Date(ts);
  return d.toDateString() === new Date().toDateString() ? timeFmt.format(d) : whenFmt.format(d);
}

/** Builds the dialog once; handlers: input(text), scope(value), more(), pick(result). */
export function searchDialog(handlers) {
  let d = $('search-dialog');
  if (d) return d;
  const input = h('input', {
    attrs: {
      id: 'search-input', type: 'search', placeholder: 'Search messages', autocomplete: 'off', spellcheck: 'false',
      'aria-label': 'Search messages', 'aria-controls': 'search-results', enterkeyhint: 'search',
    },
    on: {
      input: () => handlers.input(input.value),
      keydown: (e) => {
        if (e.key === 'Enter') { e.preventDefault(); handlers.input(input.value, true); }
        if (e.key === 'ArrowDown') { e.preventDefault(); $('search-results').querySelector('button')?.focus(); }
        // A search field's own Escape only empties it; here Escape closes the search, as everywhere in the dialog.
        if (e.key === 'Escape') { e.preventDefault(); $('search-dialog').close(); }
      },
    },
  });
  const scope = h('select', {
    attrs: { id: 'search-scope', 'aria-label': 'Where to search' },
    on: { change: () => handlers.scope(scope.value) },
  }, h('option', { text: 'All rooms', attrs: { value: '' } }), h('option', { text: 'This room', attrs: { value: 'room' } }));
  const results = h('ul', {
    className: 'search-results',
    attrs: { id: 'search-results', 'aria-label': 'Results' },
    on: { keydown: (e) => moveFocus(e, input) },
  });
  d = h('dialog', { className: 'search-dialog', attrs: { id: 'search-dialog', 'aria-labelledby': 'search-title' } },
    h('div', { className: 'search-body' },
      h('h2', { className: 'visually-hidden', text: 'Search messages', attrs: { id: 'search-title' } }),
      h('div', { className: 'search-field' },
        searchIcon(), input, scope,
        h('button', { className: 'btn ghost small', text: 'Close', attrs: { type: 'button' }, on: { click: () => d.close() } })),
      h('p', { className: 'search-hint muted', text: 'Every word matches the start of a word. Add from:name for one sender.' }),
      h('p', { className: 'search-status muted', attrs: { id: 'search-status', role: 'status', 'aria-live': 'polite' } }),
      results,
      h('button', { className: 'btn secondary search-more', text: 'More results', attrs: { id: 'search-more', type: 'button', hidden: true }, on: { click: () => handlers.more() } })));
  d.addEventListener('click', (e) => { if (e.target === d) d.close(); }); // a click on the backdrop
  d.pick = handlers.pick;
  document.body.append(d);
  return d;
}

function searchIcon() {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '20');
  svg.setAttribute('height', '20');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('d', 'M11 4a7 7 0 1 0 0 14a7 7 0 0 0 0-14zM20 20l-4-4');
  path.setAttribute('fill', 'none');
  path.setAttribute('stroke', 'currentColor');
  path.setAttribute('stroke-width', '2');
  path.setAttribute('stroke-linecap', 'round');
  svg.append(path);
  return svg;
}

/** Up and down move between results; up from the first goes back to the box. */
function moveFocus(e, input) {
  if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
  const buttons = [...$('search-results').querySelectorAll('button.search-hit')];
  const i = buttons.indexOf(document.activeElement);
  if (i < 0) return;
  e.preventDefault();
  const next = e.key === 'ArrowDown' ? buttons[i + 1] : buttons[i - 1];
  (next ?? (e.key === 'ArrowUp' ? input : buttons[i])).focus();
}

export function openSearch({ activeRoomName }) {
  const d = $('search-dialog');
  const scope = $('search-scope');
  scope.options[1].disabled = !activeRoomName;
  scope.options[1].textContent = activeRoomName ? `In ${activeRoomName}` : 'This room';
  if (!activeRoomName) scope.value = '';
  if (!d.open) d.showModal();
  const input = $('search-input');
  input.focus();
  input.select();
}

export const closeSearch = () => $('search-dialog')?.close();

/** Draws the state: status line, results (each {message, room_name}), and whether more can be loaded. */
export function renderSearch({ status, results, words, more }) {
  $('search-status').textContent = status;
  const list = $('search-results');
  list.replaceChildren(...results.map((r) => resultItem(r, words)));
  $('search-more').hidden = !more;
}

function resultItem(m, words) {
  return h('li', { className: 'search-item' },
    h('button', {
      className: 'search-hit',
      // No aria-label: the name is what the button shows (room, sender, time, text), as a sighted user reads it.
      attrs: { type: 'button' },
      dataset: { room: m.room, seq: String(m.seq) },
      on: { click: () => $('search-dialog').pick(m) },
    },
    avatar(m.from, 'avatar search-avatar'),
    h('span', { className: 'search-main' },
      h('span', { className: 'search-meta' },
        h('span', { className: 'search-room', text: store.room(m.room)?.kind === 'direct' ? m.room_name : `# ${m.room_name}`, attrs: { dir: 'auto' } }),
        h('span', { className: 'search-from', text: m.from }),
        h('time', { className: 'search-time muted', text: when(m.ts), attrs: { datetime: new Date(m.ts).toISOString() } })),
      h('span', { className: 'search-text', attrs: { dir: 'auto' } }, ...markedText(m.text, words)))));
}
