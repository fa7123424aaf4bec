// The room pane, drawn from the store: header, message log (and its scroll position), typing line,
// composer, and the room in the address bar.

import { roomTitle, store } from '../state.js';
import { h } from './dom.js';
import { intents } from './intents.js';
import { renderMessages } from './messages.js';
import { renderRoomTools } from './room-settings.js';
import { updateJump } from './unread.js';

const $ = (id) => document.getElementById(id);

/** Phone-sized window: the room list and a room are two screens. */
export const narrow = () => window.matchMedia('(max-width: 760px)').matches;

/** The room id in the address (#room/<id>, or a message's link #room/<id>/<seq>), if any. */
export function roomInAddress() {
  const m = /^#room\/([^/]+)(?:\/\d+)?$/.exec(location.hash);
  return m ? decodeURIComponent(m[1]) : null;
}

/** Shows the active room; `changed` when it is another room than the one shown. */
export function showRoom(changed) {
  const room = store.activeRoom;
  if (!room) return;
  document.body.dataset.pane = 'room';
  // A link to one of its messages (#room/<id>/<seq>) stays in the address while that room is open.
  if (roomInAddress() !== room.id) history.replaceState(null, '', `#room/${encodeURIComponent(room.id)}`);
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
  $('members-button').hidden = true;
  $('settings-button').hidden = true;
  $('block-button').hidden = true;
  $('typing').textContent = '';
  $('room-title').textContent = 'Welcome';
  $('room-sub').textContent = '';
  if (store.me) history.replaceState(null, '', location.pathname);
}

export function renderRoomHeader() {
  const room = store.activeRoom;
  if (!room) return;
  const title = roomTitle(room, store.me);
  // The name is isolated (bdi: its own direction, e.g. right-to-left) so the '#' stays in front of it.
  $('room-title').replaceChildren(...(room.kind === 'direct' ? [] : ['# ']), h('bdi', { text: title }));
  if (room.kind === 'direct') {
    $('room-sub').textContent = store.isOnline(title) ? 'Online now' : 'Direct message';
  } else {
    $('room-sub').textContent = 'Group room';
  }
  $('leave-button').hidden = room.kind === 'direct';
  renderRoomTools();
  intents.headerDrawn();
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
  updateJump();
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

/**
 * After opening a room: the message box, except on a phone, where that would pop up the keyboard over
 * the messages; there the room's heading takes focus, so a screen reader says where the reader is.
 */
export function focusComposer() {
  if (narrow()) focusHeading(); else $('message-input').focus();
}

/**
 * The screen's heading, where focus goes when there is nothing to type into: the room's name (or
 * "Welcome"), or on a phone's list screen the sidebar's "Natter".
 */
export function focusHeading() {
  $(narrow() && document.body.dataset.pane !== 'room' ? 'phone-title' : 'room-title').focus();
}

/** Arrow keys in the message log: up and down move between messages (showing each one's time), Home and End go to the ends, Escape goes to the message box. */
export function messageKeys(e) {
  // Keys inside a message's editor, menu or emoji picker are theirs.
  if (e.target.closest?.('textarea, input, .msg-menu, .picker')) return;
  const log = $('messages');
  const items = [...log.querySelectorAll('.msg')];
  if (!items.length) return;
  const at = items.indexOf(document.activeElement?.closest?.('.msg'));
  const last = items.length - 1;
  const to = {
    ArrowUp: at < 0 ? last : Math.max(0, at - 1),
    ArrowDown: at < 0 ? last : Math.min(last, at + 1),
    Home: 0,
    End: last,
  }[e.key];
  if (e.key === 'Escape' && at >= 0) {
    e.preventDefault();
    $('message-input').focus();
  } else if (to !== undefined && !e.altKey && !e.ctrlKey && !e.metaKey) {
    e.preventDefault();
    items[to].focus();
  }
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
