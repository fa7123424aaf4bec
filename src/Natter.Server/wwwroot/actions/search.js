// Search (GET /api/search): as the user types (debounced), newest first, "More results" follows the cursor; a pick
// opens the room at the hit as a message link does (actions/links.js: the messages around it, highlighted).

import { api } from '../api.js';
import { roomTitle, store } from '../state.js';
import { closeSearch, openSearch, queryWords, renderSearch, searchDialog } from '../views/search.js';
import { showMessage } from './links.js';

const PAGE = 20;
const DEBOUNCE_MS = 250;

const s = { text: '', scope: '', results: [], cursor: null, words: [], generation: 0, timer: 0 };

/** Splits "from:name" out of what was typed; the rest is the query. */
function parse(text) {
  let from = null;
  const q = text.replace(/(^|\s)from:@?(\S+)/giu, (_, space, name) => { from = name; return space; }).trim();
  return { q, from };
}

function draw(status) {
  renderSearch({ status, results: s.results, words: s.words, more: s.cursor != null });
}

async function run({ more = false } = {}) {
  const generation = ++s.generation;
  const { q, from } = parse(s.text);
  s.words = queryWords(q);
  if (!more) { s.results = []; s.cursor = null; }
  if (s.words.length === 0) {
    draw(q || from ? 'Type a word (letters or digits) to search.' : '');
    return;
  }
  if ([...q].length > 200) { draw('Searches are at most 200 characters.'); return; }
  draw(more ? 'Loading more…' : 'Searching…');
  const room = s.scope === 'room' ? store.activeId : null;
  try {
    const page = await api.search({ q, room, from, limit: PAGE, cursor: more ? s.cursor : null });
    if (generation !== s.generation) return; // a newer search was started
    s.results = more ? [...s.results, ...page.results] : page.results;
    s.cursor = page.cursor;
    const n = s.results.length;
    draw(n === 0 ? 'No messages found.' : `${n}${s.cursor ? '+' : ''} message${n === 1 ? '' : 's'} found, newest first.`);
  } catch (e) {
    if (generation !== s.generation) return;
    draw(`Search failed: ${e.message}`);
  }
}

function typed(text, now = false) {
  s.text = text;
  clearTimeout(s.timer);
  if (now) run();
  else s.timer = setTimeout(run, DEBOUNCE_MS);
}

/** Opens the hit's room at the hit, as a link to it does: loaded around it when not held, and highlighted. */
async function pick(m) {
  closeSearch();
  if (!store.room(m.room)) return;
  await showMessage(m.room, m.seq);
}

export function showSearch() {
  searchDialog({
    input: typed,
    scope: (v) => { s.scope = v; typed(s.text, true); },
    more: () => run({ more: true }),
    pick,
  });
  const active = store.activeRoom;
  openSearch({ activeRoomName: active ? roomTitle(active, store.me) : null });
}

/** Ctrl/Cmd+K anywhere, or "/" when not typing, opens search (signed in only). */
export function wireSearch() {
  document.getElementById('search-button')?.addEventListener('click', showSearch);
  document.addEventListener('keydown', (e) => {
    if (document.getElementById('chat-view').hidden) return;
    const typing = e.target instanceof HTMLElement && (e.target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName));
    const combo = (e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === 'k';
    const slash = e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey;
    if (!combo && !slash) return;
    e.preventDefault();
    showSearch();
  });
}
