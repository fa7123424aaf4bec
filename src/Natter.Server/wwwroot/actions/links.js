// Links to a message: #room/<id>/<seq> (what "Copy link" copies). Opening such an address, at load or by a
// hash change, opens the room, waits for its first page, then shows the message (loading it with around=
// when it is not on screen) and highlights it.

import { store } from '../state.js';
import { toast } from '../views/dom.js';
import { jumpTo } from './events.js';
import { openRoom } from './rooms.js';

/** The message named in the address when the session started: followed once its room is in the list. */
let pending = null;

/** The room and message in an address (#room/<id>/<seq>; the seq is optional). */
export function parseLink(hash) {
  const m = /^#room\/([^/]+)(?:\/(\d+))?$/.exec(hash);
  if (!m) return null;
  let id;
  try { id = decodeURIComponent(m[1]); } catch { return null; }
  const seq = m[2] ? Number(m[2]) : null;
  return { id, seq: Number.isSafeInteger(seq) && seq > 0 ? seq : null };
}

/** Remembers the message in the address at session start (the room itself is reopened by the room list). */
export function rememberLink() { pending = parseLink(location.hash); }

/** The room list arrived and `roomId` was reopened from the address: go on to its message, if one was named. */
export function followLink(roomId) {
  const link = pending;
  pending = null;
  if (link?.id === roomId && link.seq) showMessage(roomId, link.seq);
}

/** The address changed (a link pasted or clicked in this tab). */
export function onHashChange() {
  const link = parseLink(location.hash);
  if (!link || !store.me) return;
  if (!store.hasRoom(link.id)) { toast('That link is to a room you are not in.'); return; }
  if (link.seq) showMessage(link.id, link.seq);
  else if (store.activeId !== link.id) openRoom(link.id);
}

const HISTORY_WAIT_MS = 10000;

/** Opens the room (when another is open), waits for its first page, then shows and highlights the message. */
export async function showMessage(roomId, seq) {
  if (store.activeId !== roomId) openRoom(roomId);
  const room = store.room(roomId);
  // The room's first page draws the log scrolled to the bottom; the jump comes after it.
  for (const until = Date.now() + HISTORY_WAIT_MS; room && !room.historyLoaded && Date.now() < until;) {
    await new Promise((r) => { setTimeout(r, 50); });
  }
  if (store.activeId !== roomId) return;
  await jumpTo(roomId, seq);
  // The address names the message shown, so a reload comes back to it.
  history.replaceState(null, '', `#room/${encodeURIComponent(roomId)}/${seq}`);
}
