// Room actions: the room list, opening and closing a room, creating, joining, leaving, direct messages.

import { api } from '../api.js';
import { clearDraft, loadDraft } from '../drafts.js';
import { roomTitle, store } from '../state.js';
import { toast } from '../views/dom.js';
import * as roomView from '../views/room.js';
import { renderReplyBar } from '../views/reply.js';
import { renderUploads } from './files.js';
import { scrollToDivider } from '../views/unread.js';
import * as screens from '../views/screens.js';
import { flushReads, loadHistory, markRead } from './messages.js';
import { connection } from './session.js';
import { followLink } from './links.js';

/** Applies a full room list (welcome or GET /api/rooms); `authoritative` drops rooms not in it. */
export function applyRooms(list, authoritative) {
  if (!Array.isArray(list)) return;
  const ids = new Set();
  for (const r of list) { store.upsertRoom(r); ids.add(r.id); }
  if (authoritative) {
    for (const id of store.roomIds) if (!ids.has(id)) removeRoom(id);
  }
  screens.renderRooms();
  const restore = store.takeRestoreId();
  if (restore) {
    openRoom(restore);
    followLink(restore);
  } else if (store.activeId) {
    roomView.renderRoomHeader();
  }
}

let refreshTimer = 0;
let afterRefresh = [];
/** Asks for the room list soon (several changes in a row make one request); `then` runs once it is applied or failed. */
export function refreshRoomsSoon(then) {
  if (then) afterRefresh.push(then);
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    const done = afterRefresh;
    afterRefresh = [];
    api.rooms().then((l) => applyRooms(l, true)).catch(() => {}).finally(() => done.forEach((f) => f()));
  }, 150);
}

export function removeRoom(id) {
  const wasActive = store.activeId === id;
  store.removeRoom(id);
  connection()?.forgetRoom(id);
  clearDraft(store.me, id);
  if (wasActive) closeRoom();
  screens.renderRooms();
}

export function openRoom(id) {
  const room = store.room(id);
  if (!room) return;
  const changed = store.activeId !== id;
  if (changed && store.activeId) flushReads(store.activeId);
  store.setActive(id);
  // The "New messages" divider goes where the room was read up to when it opened, and stays while it is open.
  if (changed) store.setUnreadMarker(id, room.unread > 0 ? room.readSeq : null);
  roomView.showRoom(changed);
  // Each room keeps its own draft: what was typed elsewhere never follows into this room.
  if (changed) roomView.setComposer(loadDraft(store.me, id));
  renderReplyBar();
  renderUploads();
  screens.renderRooms();
  roomView.renderActive({ toBottom: true });
  if (changed) scrollToDivider();
  markRead(room);
  if (!room.historyLoaded) loadHistory(room);
  roomView.focusComposer();
}

export function closeRoom() {
  const closed = store.activeId;
  if (closed) flushReads(closed);
  store.setActive(null);
  roomView.showNoRoom();
  screens.renderRooms();
  if (closed) screens.focusAfterClose(closed);
}

export async function createRoom(name, isPrivate = false) {
  name = name.trim();
  if (!name) { screens.setFormError('create-error', 'Give the room a name.'); return; }
  try {
    const room = store.upsertRoom(await api.createRoom(name, isPrivate ? { visibility: 'private' } : {}));
    screens.closeDialog('create-dialog');
    document.getElementById('create-private').checked = false;
    refreshRoomsSoon();
    if (room) openRoom(room.id);
  } catch (err) {
    screens.setFormError('create-error', err.message);
  }
}

/** Opens (creating if needed) the direct room with `username`; throws what the API threw. */
export async function startDirect(username) {
  const name = username.trim().toLowerCase();
  const room = store.upsertRoom(await api.direct(name));
  refreshRoomsSoon();
  if (room) openRoom(room.id);
}

/** The direct message dialog's submit. */
export async function submitDirect(username) {
  const name = username.trim();
  if (!name) { screens.setFormError('dm-error', 'Enter a username.'); return; }
  try {
    await startDirect(name);
    screens.closeDialog('dm-dialog');
  } catch (err) {
    screens.setFormError('dm-error', err.status === 404 ? `There is no user called “${name}”.` : err.message);
  }
}

export async function browse() {
  screens.openDialog('browse-dialog');
  screens.showPublicRooms(null);
  try {
    screens.showPublicRooms(await api.publicRooms());
  } catch (e) {
    screens.setFormError('browse-error', e.message);
  }
}

/** Join (or open, when already a member) a room from the browse dialog. */
export async function joinRoom(r) {
  try {
    if (!store.hasRoom(r.id)) store.upsertRoom(await api.joinRoom(r.id) ?? { id: r.id, name: r.name, kind: 'group' });
    screens.closeDialog('browse-dialog');
    refreshRoomsSoon();
    openRoom(r.id);
  } catch (e) {
    screens.setFormError('browse-error', e.message);
  }
}

export async function leaveActiveRoom() {
  const room = store.activeRoom;
  if (!room) return;
  try {
    await api.leaveRoom(room.id);
    removeRoom(room.id);
    toast(`You left ${roomTitle(room, store.me)}.`);
  } catch (e) {
    toast(`Could not leave: ${e.message}`);
  }
}
