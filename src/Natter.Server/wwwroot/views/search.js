// The search dialog (Ctrl/Cmd+K or "/"): a box, the results with their room, sender and time, and the words that
// matched marked. Message text goes in only as text nodes and <mark> elements, never as HTML.

import { store } from '../state.js';
import { avatar, h } from './dom.js';

const $ = (id) => document.getElementById(id);
const whenFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeFmt = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });

// What a word is, as the server decides it (docs/search.md): decomposed (NFKD), combining marks dropped,
// lower-cased, runs of letters and decimal digits; a run of Chinese, Japanese or Korean characters is its pairs.
const fold = (s) => s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();

/** The characters the server pairs (SearchWords.KindOf), by the first code point of a folded character. */
function isCjk(folded) {
  const c = folded.codePointAt(0) ?? 0;
  return (c >= 0x1100 && c <= 0x11ff) || c === 0x3005 || c === 0x3006 || (c >= 0x3031 && c <= 0x3035)
    || c === 0x303b || c === 0x303c || (c >= 0x3040 && c <= 0x30ff) || (c >= 0x3100 && c <= 0x312f)
    || (c >= 0x31a0 && c <= 0x31bf) || (c >= 0x31f0 && c <= 0x31ff) || (c >= 0x3400 && c <= 0x4dbf)
    || (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xa960 && c <= 0xa97f) || (c >= 0xd7b0 && c <= 0xd7ff)
    || (c >= 0xf900 && c <= 0xfaff) || (c >= 0x1b000 && c <= 0x1b16f) || (c >= 0x20000 && c <= 0x3ffff);
}

/**
 * A word of the original text (letters, digits, marks) in parts: runs of other letters as one part, and each
 * character the server pairs as a part of its own (a Hangul syllable is one), with where it is in the word.
 */
function parts(word) {
  const out = [];
  for (const m of word.matchAll(/\P{M}\p{M}*/gu)) {
    const f = fold(m[0]);
    if (!f) continue;
    const cjk = isCjk(f);
    const last = out.at(-1);
    if (!cjk && last && !last.cjk) { last.folded += f; last.end = m.index + m[0].length; }
    else out.push({ cjk, folded: f, start: m.index, end: m.index + m[0].length });
  }
  return out;
}

/** Hangul letters as NFKD leaves them: 2 leading consonant, 3 vowel, 4 trailing consonant; 1 another paired character. */
function kind(c) {
  if (c >= 0x1100 && c <= 0x115f) return 2;
  if (c >= 0x1160 && c <= 0x11a7) return 3;
  if (c >= 0x11a8 && c <= 0x11ff) return 4;
  if (c >= 0xa960 && c <= 0xa97f) return 2;
  if (c >= 0xd7b0 && c <= 0xd7c6) return 3;
  if (c >= 0xd7cb && c <= 0xd7fb) return 4;
  return isCjk(String.fromCodePoint(c)) ? 1 : 0;
}

/** The words of a query, as the server will match them (SearchWords.Query, before its deduplication). */
export function queryWords(q) {
  const words = [];
  for (const [run] of fold(q).matchAll(/[\p{L}\p{Nd}]+/gu)) {
    let plain = '';
    let units = [];
    let prev = 0;
    const pairs = () => {
      if (units.length === 1) words.push(units[0]);
      else for (let i = 0; i + 1 < units.length; i++) words.push(units[i] + units[i + 1]);
      units = [];
    };
    for (const ch of run) {
      const k = kind(ch.codePointAt(0));
      if (!k) {
        if (units.length) pairs();
        plain += ch;
      } else {
        if (plain) { words.push(plain); plain = ''; }
        // A vowel after a leading consonant, or a trailing consonant after a vowel, is the same syllable.
        if (units.length && ((k === 3 && prev === 2) || (k === 4 && (prev === 3 || prev === 4)))) units[units.length - 1] += ch;
        else units.push(ch);
      }
      prev = k;
    }
    if (units.length) pairs();
    if (plain) words.push(plain);
  }
  return words;
}

/**
 * The text as nodes: each word of the text that starts with a query word has that start in a <mark>, and each
 * Chinese, Japanese or Korean character of a pair (or a single one) the query asked for is marked. A word of the
 * original text keeps its combining marks, so the mark never splits a letter from its accent.
 */
export function markedText(text, words) {
  const marks = [];
  for (const m of text.matchAll(/[\p{L}\p{Nd}\p{M}]+/gu)) {
    const ps = parts(m[0]);
    for (let i = 0; i < ps.length; i++) {
      const p = ps[i];
      if (p.cjk) {
        const next = ps[i + 1]?.cjk ? ps[i + 1] : null;
        if (next && words.includes(p.folded + next.folded)) marks.push([m.index + p.start, m.index + next.end]);
        else if (words.includes(p.folded)) marks.push([m.index + p.start, m.index + p.end]);
        continue;
      }
      const word = m[0].slice(p.start, p.end);
      const hit = words.filter((w) => p.folded.startsWith(w)).sort((a, b) => b.length - a.length)[0];
      if (!hit) continue;
      // The shortest start of the original word that folds to the hit, then any marks that belong to its last letter.
      const chars = Array.from(word);
      let k = 1;
      while (k < chars.length && fold(chars.slice(0, k).join('')).length < hit.length) k++;
      while (k < chars.length && /\p{M}/u.test(chars[k])) k++;
      const start = m.index + p.start;
      marks.push([start, start + chars.slice(0, k).join('').length]);
    }
  }
  // Marks in order, overlapping pairs joined into one.
  const nodes = [];
  let last = 0;
  for (const [from, to] of marks.sort((a, b) => a[0] - b[0])) {
    const start = Math.max(from, last);
    if (to <= start) continue;
    const prev = nodes.at(-1);
    if (start === last && last > 0 && prev?.nodeName === 'MARK') prev.textContent += text.slice(start, to);
    else {
      if (start > last) nodes.push(document.createTextNode(text.slice(last, start)));
      nodes.push(h('mark', { text: text.slice(start, to) }));
    }
    last = to;
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
