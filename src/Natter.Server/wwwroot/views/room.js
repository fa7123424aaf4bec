// The room pane, drawn from the store: header, message log (and its scroll position), typing line,
// composer, and the room in the address bar.

import { roomTitle, store } from '../state.js';
import { intents } from './intents.js';
import { renderMessages } from './messages.js';

const $ = (id) => document.getElementById(id);

/** Phone-sized window: the room list and a room are two screens. */
export const narrow = () => window.matchMedia('(max-width: 760px)').matches;

/** The room id in the address (#room/<id>), if any. */
export function roomInAddress() {
  const m = /^#room\/(.+)$/.exec(location.hash);
  return m ? decodeURIComponent(m[1]) : null;
}

/** Shows the active room; `changed` when it is another room than the one shown. */
export function showRoom(changed) {
  const room = store.activeRoom;
  if (!room) return;
  document.body.dataset.pane = 'room';
  history.replaceState(null, '', `#room/${encodeURIComponent(room.id)}`);
  $('welcome-panel').hidden = true;
  $('messages').hidden = false;
  $('composer').hidden = false;
  if (changed) {
    const title = roomTitle(room, store.me);
    $('messages').replaceChildren();
    $('typing').textContent = '';
    $('message-input').placeholder = room.kind === 'direct' ? `Message ${title}` : `Message #${title}`;
  }
  renderRoomHeader();
}

/** The welcome panel instead of a room. */
export function showNoRoom() {
  document.body.dataset.pane = 'list';
  $('welcome-panel').hidden = false;
  $('messages').hidden = true;
  $('messages').replaceChildren();
  $('composer').hidden = true;
  $('leave-button').hidden = true;
  $('typing').textContent = '';
  $('room-title').textContent = 'Welcome';
  $('room-sub').textContent = '';
  if (store.me) history.replaceState(null, '', location.pathname);
}

export function renderRoomHeader() {
  const room = store.activeRoom;
  if (!room) return;
  const title = roomTitle(room, store.me);
  $('room-title').textContent = room.kind === 'direct' ? title : `# ${title}`;
  if (room.kind === 'direct') {
    $('room-sub').textContent = store.isOnline(title) ? 'Online now' : 'Direct message';
  } else {
    $('room-sub').textContent = 'Group room';
  }
  $('leave-button').hidden = room.kind === 'direct';
}

/** Draws the open room's messages; stays at the bottom when the reader was there (or `toBottom`). */
export function renderActive({ toBottom = false } = {}) {
  const room = store.activeRoom;
  if (!room) return;
  const log = $('messages');
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 120;
  renderMessages(log, {
    room,
    me: store.me,
    pending: store.pending.filter((p) => p.room === room.id),
    online: store.connection === 'online',
    onRetry: intents.retry,
    onDiscard: intents.discard,
  });
  if (toBottom || nearBottom) log.scrollTop = log.scrollHeight;
}

/** Where the reader is, measured from the bottom, so older messages can appear above without a jump. */
export function scrollAnchor() {
  const log = $('messages');
  return log.scrollHeight - log.scrollTop;
}

export function keepScroll(anchor) {
  const log = $('messages');
  log.scrollTop = log.scrollHeight - anchor;
}

/** True when the log does not overflow, so there is nothing to scroll up with yet. */
export function logHasRoom() {
  const log = $('messages');
  return log.scrollHeight <= log.clientHeight + 40;
}

/** True when the reader is near the top of the log (time to load older messages). */
export const nearTop = () => $('messages').scrollTop < 150;

export function renderTyping() {
  const room = store.activeRoom;
  const names = room ? room.typists() : [];
  $('typing').textContent = names.length === 0 ? ''
    : names.length === 1 ? `${names[0]} is typing…`
      : names.length === 2 ? `${names[0]} and ${names[1]} are typing…`
        : 'Several people are typing…';
}

export function focusComposer() {
  if (!narrow()) $('message-input').focus();
}

/** Grows the message box with its text, up to a limit. */
export function autosizeComposer() {
  const input = $('message-input');
  input.style.height = 'auto';
  input.style.height = `${Math.min(input.scrollHeight, 180)}px`;
}

/** Puts a room's draft (or nothing) into the message box. */
export function setComposer(text) {
  $('message-input').value = text;
  autosizeComposer();
}

export const clearComposer = () => setComposer('');
