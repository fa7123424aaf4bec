// Server frames from the socket, applied to the store and drawn.

import { store } from '../state.js';
import { toast } from '../views/dom.js';
import * as roomView from '../views/room.js';
import * as screens from '../views/screens.js';
import { quoteEvent } from './events.js';
import { backfillAnswered, loadHistory, markRead, onGap, readPositionsFromServer, resetBackfills } from './messages.js';
import { notifyMessage } from './notify.js';
import { applyRooms, refreshRoomsSoon, removeRoom } from './rooms.js';
import { applyPresence, refreshOnline } from './people.js';
import { onMemberFrame, onRoomFrame } from './room-admin.js';
import { connection } from './session.js';

const TYPING_SHOW_MS = 5000;

export function onFrame(f) {
  switch (f.type) {
    case 'welcome': {
      resetBackfills();
      applyRooms(f.rooms, true);
      readPositionsFromServer(f.rooms);
      refreshOnline();
      const active = store.activeRoom;
      if (active && !active.historyLoaded) loadHistory(active);
      break;
    }
    case 'message':
      onMessage(f);
      break;
    case 'synced':
      backfillAnswered(f);
      roomView.renderActive();
      markRead(store.activeRoom);
      break;
    case 'room':
      onRoomFrame(f);
      if (f.event === 'removed' || f.event === 'deleted') break;
      refreshRoomsSoon();
      refreshOnline();
      break;
    case 'member':
      onMemberFrame(f);
      if (f.username === store.me) {
        if (f.event === 'left') removeRoom(f.room);
        else refreshRoomsSoon();
      } else if (f.event === 'joined') {
        // Presence frames only cover people who already shared a room; a newcomer may be online already.
        refreshOnline();
      }
      break;
    case 'presence':
      applyPresence(f.username, f.online);
      break;
    case 'typing': {
      const room = store.room(f.room);
      if (!room || f.username === store.me) break;
      store.setTyping(room, f.username, Date.now() + TYPING_SHOW_MS);
      if (room.id === store.activeId) {
        roomView.renderTyping();
        setTimeout(roomView.renderTyping, TYPING_SHOW_MS + 100);
      }
      break;
    }
    case 'read': {
      const room = store.room(f.room);
      if (!room) break;
      if (f.username === store.me) {
        // Read on another device (or this one): the server holds it, so it needs no marker from here.
        store.advanceRead(room, f.seq);
        if (f.seq > room.readSent) store.setReadSent(room, f.seq);
        screens.renderRooms();
      } else {
        store.setReader(room, f.username, f.seq);
        if (room.id === store.activeId) roomView.renderActive();
      }
      break;
    }
    case 'error':
      backfillAnswered(f);
      // An error with a ref answers a frame this client sent: a refused send is shown on the message, and
      // the client's own background frames (sync, ping; typing and read never get here) are not the
      // user's business. Nor is being asked to slow down.
      if (typeof f.ref !== 'string' && f.code !== 'rate_limited') toast(f.message || `Error: ${f.code}`);
      break;
    default:
      // Every other frame that names a room and a seq is an event of the room log (edit, delete, reaction,
      // or a kind this client does not know): the room's cursor moves past it all the same.
      if (typeof f.room === 'string' && Number.isInteger(f.seq)) onEvent(f);
      break;
  }
}

function onEvent(f) {
  const room = store.room(f.room);
  if (!room) return;
  if (room.historyLoaded && room.maxSeq > 0 && f.seq > room.maxSeq + 1 && onGap(room)) return;
  if (!store.applyEvent(room, f)) return;
  quoteEvent(room.id, f);
  if (f.from === store.me && f.client_id) connection()?.confirm(f.client_id);
  if (room.id === store.activeId) {
    roomView.renderActive();
    markRead(room);
  } else if (f.from === store.me) {
    store.advanceRead(room, f.seq);
  }
  screens.renderRooms();
}

// Live messages of rooms this client first hears of from the message itself (say, someone opens a direct
// conversation): whether the room is direct, and its name, come with the room list, so their notifications wait
// for it.
const unlisted = new Map();

/** The room list came (or could not): the waiting messages are notified as they would have been. */
function notifyUnlisted() {
  for (const [id, waiting] of unlisted) {
    unlisted.delete(id);
    const room = store.room(id);
    if (room) for (const { m, live } of waiting) notifyMessage(room, m, live);
  }
}

function onMessage(m) {
  let room = store.room(m.room);
  if (!room) {
    room = store.upsertRoom({ id: m.room, name: '', kind: 'group' });
    unlisted.set(room.id, []);
    refreshRoomsSoon(notifyUnlisted);
  }
  if (room.historyLoaded && room.maxSeq > 0 && m.seq > room.maxSeq + 1 && onGap(room)) return;
  const me = store.me;
  // A message past what the welcome counted that mentions the user, in a room not being read.
  const live = m.seq > room.lastSeq;
  const mentionsMe = live && Array.isArray(m.mentions) && m.mentions.includes(me);
  if (!store.addMessage(room, m)) return;
  if (unlisted.has(room.id)) unlisted.get(room.id).push({ m, live });
  else notifyMessage(room, m, live);
  if (mentionsMe && room.id !== store.activeId) store.addMention(room);
  if (m.from === me && m.client_id) connection()?.confirm(m.client_id);
  if (m.from === me && room.id !== store.activeId) store.advanceRead(room, m.seq);
  store.clearTyping(room, m.from);
  if (room.id === store.activeId) {
    roomView.renderActive({ toBottom: m.from === me });
    roomView.renderTyping();
    markRead(room);
  }
  screens.renderRooms();
}

/** A queued send was stored: it becomes a message with its seq. */
export function onAcked(p, ack) {
  const room = store.room(ack.room ?? p.room);
  if (!room) return;
  store.addMessage(room, { room: room.id, seq: ack.seq, from: store.me, text: p.text, ts: ack.ts, client_id: p.client_id, reply_to: p.reply_to ?? null, files: p.files ?? [] });
  if (room.id === store.activeId) {
    roomView.renderActive({ toBottom: true });
    markRead(room);
  }
  screens.renderRooms();
}
