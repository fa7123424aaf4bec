// Message actions: history pages, filling gaps, read markers, sending, typing notices.

import { api } from '../api.js';
import { clearDraft, saveDraft } from '../drafts.js';
import { Coalescer } from '../pacer.js';
import { store } from '../state.js';
import { toast } from '../views/dom.js';
import * as roomView from '../views/room.js';
import { renderReplyBar } from '../views/reply.js';
import { scrollToDivider } from '../views/unread.js';
import * as screens from '../views/screens.js';
import { removeRoom } from './rooms.js';
import { connection } from './session.js';
import { hasFiles, takeFiles, uploading } from './files.js';

const PAGE = 50;
const TYPING_SEND_EVERY_MS = 3000;
/** Read markers per room go out at most this often: a busy room makes one marker a second, not one per message. */
const READ_EVERY_MS = 1000;

/** The newest page of a room, the first time it is opened. */
export async function loadHistory(room) {
  if (room.historyLoaded || room.loadingOlder) return;
  store.setLoadingOlder(room, true);
  try {
    // Enough to reach the first unread message (up to two pages), so the "New messages" divider shows; an
    // older one shows when the reader scrolls up to it.
    const mark = store.unreadMarker?.room === room.id ? store.unreadMarker.seq : room.lastSeq;
    const limit = Math.min(2 * PAGE, Math.max(PAGE, room.lastSeq - mark + 10));
    const msgs = await api.messages(room.id, { limit });
    store.addMessages(room, msgs);
    store.setHistoryLoaded(room);
    if (msgs.length < limit) store.setNoOlder(room);
  } catch (e) {
    if (e.status === 403 || e.status === 404) { removeRoom(room.id); toast('You are no longer in that room.'); return; }
    toast(`Could not load messages: ${e.message}`);
  } finally {
    store.setLoadingOlder(room, false);
  }
  if (store.activeId !== room.id) return;
  roomView.renderActive({ toBottom: true });
  scrollToDivider();
  screens.renderRooms();
  markRead(room);
  fillViewport(room);
}

/** Loads older pages while the log does not overflow, so there is always something to scroll. */
function fillViewport(room) {
  if (room.hasOlder && roomView.logHasRoom()) loadOlder(room);
}

/** The page before the oldest message held (the reader scrolled up). */
export async function loadOlder(room) {
  if (!room.historyLoaded || room.loadingOlder || !room.hasOlder) return;
  store.setLoadingOlder(room, true);
  roomView.renderActive();
  try {
    const before = Number.isFinite(room.minSeq) ? room.minSeq : room.lastSeq + 1;
    const msgs = await api.messages(room.id, { before, limit: PAGE });
    const anchor = roomView.scrollAnchor();
    store.addMessages(room, msgs);
    if (msgs.length < PAGE) store.setNoOlder(room);
    store.setLoadingOlder(room, false);
    if (store.activeId !== room.id) return;
    roomView.renderActive();
    // Keep the message the reader was looking at in place while older ones appear above it.
    roomView.keepScroll(anchor);
  } catch (e) {
    store.setLoadingOlder(room, false);
    toast(`Could not load earlier messages: ${e.message}`);
    roomView.renderActive();
    return;
  }
  fillViewport(room);
}

/**
 * A live frame skipped seqs. History pages hold messages in their current state but not the edits, deletions
 * and reactions between them, so an event in the gap that changed a message already held would be lost; the
 * gap is asked for again on the socket instead (a backfill sync), which replays every kind in seq order.
 * Frames past the gap wait for it: they are dropped here and come again with the backfill. True when the
 * frame is to be dropped; false when it is to be applied (no socket to ask on: the old HTTP fill is used).
 */
export function onGap(room) {
  if (backfills.has(room.id)) return true;
  const ref = connection()?.backfill(room.id, room.maxSeq);
  if (ref) {
    backfills.set(room.id, ref);
    return true;
  }
  fillGap(room, room.maxSeq);
  return false;
}

/** room id -> ref of its backfill sync under way */
const backfills = new Map();

/** A `synced` or `error` frame: when it answers a backfill, the room takes live frames again. */
export function backfillAnswered(f) {
  for (const [room, ref] of backfills) {
    if (ref !== f.ref) continue;
    backfills.delete(room);
    const r = store.room(room);
    // A refused backfill (the store could not answer): what history has, so the log at least has no hole.
    if (f.type === 'error' && r) fillGap(r, r.maxSeq);
  }
}

/** A new socket: its own sync covers every room from what is held, so no backfill is waited for. */
export const resetBackfills = () => backfills.clear();

/** Fetches messages after `after` over HTTP (when no socket can be asked). */
async function fillGap(room, after) {
  try {
    for (;;) {
      const msgs = await api.messages(room.id, { after, limit: 200 });
      store.addMessages(room, msgs);
      if (msgs.length < 200) break;
      after = msgs.at(-1).seq;
    }
  } catch { return; }
  if (store.activeId === room.id) roomView.renderActive();
  screens.renderRooms();
}

const reads = new Coalescer({ everyMs: READ_EVERY_MS, send: sendRead });

function sendRead(roomId, seq) {
  const room = store.room(roomId);
  if (!room || seq <= room.readSent) return;
  // Sent, or waiting in the connection for an event token; when offline it goes after the next welcome.
  if (connection()?.sendEvent({ type: 'read', room: roomId, seq }, `read:${roomId}`)) store.setReadSent(room, seq);
}

/** The open room is read up to its newest message: clear the badge, and tell the server (coalesced). */
export function markRead(room) {
  if (!room || store.activeId !== room.id || document.visibilityState !== 'visible') return;
  const seq = Math.max(room.maxSeq, 0);
  if (seq > room.readSent) reads.put(room.id, seq);
  store.advanceRead(room, seq);
  store.clearMentions(room);
  screens.renderRooms();
}

/** A room was closed or left, or the page hidden: its waiting read marker (or every one) goes now. */
export function flushReads(roomId = null) {
  if (roomId) reads.flush(roomId); else reads.flushAll();
}

/** A new session: nothing from the last one is waiting. */
export const resetReads = () => reads.clear();

/**
 * After a welcome: what the server holds as read (its read_seq) is what has been reported; a room read
 * further here while offline, or whose marker was lost with the socket, is reported again.
 */
export function readPositionsFromServer(list) {
  if (!Array.isArray(list)) return;
  for (const r of list) {
    const room = store.room(r.id);
    if (room && Number.isInteger(r.read_seq)) store.setReadSent(room, r.read_seq);
  }
  for (const room of store.rooms) if (room.readSeq > room.readSent) reads.put(room.id, room.readSeq);
}

/** The server refused a read frame (rate_limited): unless a newer marker went since, report it again shortly. */
export function readRefused(frame) {
  const room = frame?.type === 'read' ? store.room(frame.room) : null;
  if (!room || room.readSent !== frame.seq) return;
  store.setReadSent(room, frame.seq - 1);
  reads.put(room.id, Math.max(frame.seq, room.readSeq));
}

/** Sends the composer's text to the open room; false when there is nothing to send. */
export function sendText(raw) {
  const room = store.activeRoom;
  const text = raw.trim();
  const conn = connection();
  if (room && uploading(room.id)) { toast('A file is still uploading: send when it is done, or cancel it.'); return false; }
  if (!room || (!text && !hasFiles(room.id)) || !conn) return false;
  const max = store.limits?.max_text;
  if (max && [...text].length > max) { toast(`Messages can be at most ${max} characters.`); return false; }
  const files = takeFiles(room.id);
  const reply = store.replyTo?.room === room.id ? store.replyTo.seq : null;
  conn.sendMessage(room.id, text, reply, files);
  store.setReplyTo(null);
  renderReplyBar();
  store.setLastTypingSent(0);
  clearDraft(store.me, room.id);
  roomView.clearComposer();
  roomView.renderActive({ toBottom: true });
  return true;
}

/** The user typed in the composer: the text is the open room's draft, and a typing notice goes out at most every few seconds. */
export function composerInput(text) {
  const room = store.activeRoom;
  if (room) saveDraft(store.me, room.id, text);
  const now = Date.now();
  if (room && text.trim() && now - store.lastTypingSent > TYPING_SEND_EVERY_MS) {
    if (connection()?.sendEvent({ type: 'typing', room: room.id })) store.setLastTypingSent(now);
  }
}

export const retry = (clientId) => connection()?.retry(clientId);
export const discard = (clientId) => connection()?.discard(clientId);
