// "@" in the message box: the people of the open room to pick from, by keyboard (↑ ↓, Enter or Tab, Escape)
// or mouse; a pick puts "@username " in place of what was typed after the "@".
//
// Who is listed: GET /api/rooms/{id}/members when the server has it (protocol v2 §4); otherwise the people
// this client already knows to be in the room: the authors of the messages it holds, those whose read
// markers or typing it has seen, and in a direct room the other person. Either way people online come first.

import { roomTitle, store } from '../state.js';
import { hideMentionList, showMentionList } from '../views/autocomplete.js';

const MAX_SHOWN = 8;
const MEMBERS_KEPT_MS = 60000;
const NAME_CHAR = /[\p{L}\p{N}_.-]/u;

/** room id -> {at, names: string[]|null} (null: the server has no member list) */
const members = new Map();
let open = null; // {start, end, people, active}

async function fetchMembers(roomId) {
  const known = members.get(roomId);
  if (known && Date.now() - known.at < MEMBERS_KEPT_MS) return;
  members.set(roomId, { at: Date.now(), names: known?.names ?? null });
  try {
    const res = await fetch(`/api/rooms/${encodeURIComponent(roomId)}/members`, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!res.ok) return;
    const list = await res.json();
    if (!Array.isArray(list)) return;
    const names = list.map((m) => (typeof m === 'string' ? m : m?.username)).filter((n) => typeof n === 'string');
    members.set(roomId, { at: Date.now(), names });
  } catch { /* the names this client knows still answer */ }
}

/** Everyone this client can name in the room, except the user. */
function candidates(room) {
  const me = store.me;
  const names = new Set(members.get(room.id)?.names ?? []);
  if (room.kind === 'direct') for (const n of roomTitle(room, me).split(', ')) names.add(n);
  for (const m of room.list) names.add(m.from);
  for (const [u] of room.readers) names.add(u);
  for (const u of room.typists()) names.add(u);
  names.delete(me);
  names.delete('');
  return [...names];
}

/** The "@word" the caret is in (or just after): its bounds and the word; null when there is none. */
function tokenAt(value, caret) {
  let start = caret;
  while (start > 0 && NAME_CHAR.test(value[start - 1])) start--;
  if (start === 0 || value[start - 1] !== '@') return null;
  const at = start - 1;
  if (at > 0 && /[\p{L}\p{N}_]/u.test(value[at - 1])) return null; // an e-mail address, not a mention
  let end = caret;
  while (end < value.length && NAME_CHAR.test(value[end])) end++;
  return { start: at, end, query: value.slice(start, caret).toLowerCase() };
}

/** The message box changed or its caret moved: show, narrow or hide the list. */
export function mentionInput() {
  const input = document.getElementById('message-input');
  const room = store.activeRoom;
  const t = room && input.selectionStart === input.selectionEnd ? tokenAt(input.value, input.selectionStart) : null;
  if (!t) { close(); return; }
  // The server's list, when it comes, redraws what is typed by then (not what was typed when it was asked).
  fetchMembers(room.id).then(() => { if (open && store.activeRoom === room) update(); });
  refresh(room, t);
}

function update() {
  const input = document.getElementById('message-input');
  const room = store.activeRoom;
  const t = room && input.selectionStart === input.selectionEnd ? tokenAt(input.value, input.selectionStart) : null;
  if (t) refresh(room, t); else close();
}

function refresh(room, t) {
  const q = t.query;
  const people = candidates(room)
    .map((username) => ({ username, online: store.isOnline(username), rank: username.startsWith(q) ? 0 : username.includes(q) ? 1 : 2 }))
    .filter((p) => p.rank < 2)
    .sort((a, b) => a.rank - b.rank || Number(b.online) - Number(a.online) || a.username.localeCompare(b.username))
    .slice(0, MAX_SHOWN);
  if (!people.length) { close(); return; }
  const keep = open?.people[open.active]?.username;
  const active = Math.max(0, people.findIndex((p) => p.username === keep));
  open = { ...t, people, active };
  showMentionList(people, active, pick);
}

function close() {
  if (!open) return;
  open = null;
  hideMentionList();
}

/** Puts "@name " where the "@word" was and moves the caret after it. */
function pick(username) {
  const input = document.getElementById('message-input');
  if (!open) return;
  const { start, end } = open;
  close();
  const text = `@${username} `;
  input.setRangeText(text, start, end, 'end');
  input.focus();
  // The usual path for typed text: the draft is kept and the box resized.
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

/**
 * Keys while the list is open; registered on the composer in the capture phase, so Enter picks a name
 * instead of sending and Escape closes the list instead of anything else.
 */
export function mentionKeys(e) {
  if (!open || e.isComposing || e.target.id !== 'message-input') return;
  const n = open.people.length;
  if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    open.active = (open.active + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
    showMentionList(open.people, open.active, pick);
  } else if ((e.key === 'Enter' && !e.shiftKey) || (e.key === 'Tab' && !e.shiftKey)) {
    pick(open.people[open.active].username);
  } else if (e.key === 'Escape') {
    close();
  } else {
    return;
  }
  e.preventDefault();
  e.stopPropagation();
}

/** Focus left the message box (a click elsewhere): the list goes. */
export function mentionBlur() { close(); }
