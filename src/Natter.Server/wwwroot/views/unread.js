// Where the reader is in the open room: the "New messages" divider above the first message that was unread
// when the room was opened (from its read_seq), and the "Jump to latest" button shown while the reader is
// scrolled up, counting the messages that came in below what they have seen.

import { store } from '../state.js';
import { h } from './dom.js';

const $ = (id) => document.getElementById(id);
/** Scrolled up by more than this (px) shows the button. */
const AWAY_PX = 200;

/** Highest message seq the reader has had on screen in the open room. */
let seen = { room: null, seq: 0 };

/** The seq the divider goes above: the first message from someone else after the marker; null for none. */
export function dividerSeq(room, me) {
  const mark = store.unreadMarker;
  if (!mark || mark.room !== room.id) return null;
  return room.list.find((m) => m.seq > mark.seq && m.from !== me)?.seq ?? null;
}

export const dividerEntry = () => ({
  key: 'unread',
  render: (n) => n ?? h('div', { className: 'unread-divider', attrs: { role: 'separator', 'aria-label': 'New messages' } },
    h('span', { text: 'New messages' })),
});

/** The button sits at the end of the log, sticky at its bottom edge, so it floats over the messages when scrolled up. */
export const jumpEntry = () => ({
  key: 'jump',
  render: (n) => n ?? h('button', {
    className: 'jump-latest', attrs: { type: 'button', hidden: true },
    on: { click: jumpToLatest },
  }, h('span', { className: 'jump-label' }), h('span', { className: 'jump-arrow', text: '↓', attrs: { 'aria-hidden': 'true' } })),
});

/** Scrolls to the newest message; focus goes to the message box (on a phone, to the log: no keyboard popping up). */
export function jumpToLatest() {
  const log = $('messages');
  log.scrollTop = log.scrollHeight;
  updateJump();
  if (window.matchMedia('(max-width: 760px)').matches) log.focus({ preventScroll: true }); else $('message-input').focus({ preventScroll: true });
}

/** After a room opened: when its first unread message is above the screen, show it at the top instead of the bottom. */
export function scrollToDivider() {
  const log = $('messages');
  const d = log.querySelector('.unread-divider');
  if (d) {
    const top = d.getBoundingClientRect().top - log.getBoundingClientRect().top;
    if (top < 0) {
      log.scrollTop += top - 56; // with the last read message above it, for context
      // What the first draw put on screen at the bottom has not been read: it is below the reader now.
      seen = { room: store.activeId, seq: 0 };
    }
  }
  updateJump();
}

/** Shows or hides the button and its count; called on scroll and after each draw of the log. */
export function updateJump() {
  const log = $('messages');
  const room = store.activeRoom;
  const button = log.querySelector('.jump-latest');
  if (!room || !button) return;
  if (seen.room !== room.id) seen = { room: room.id, seq: 0 };
  // The newest message whose top edge is on screen (or above it) has been seen.
  const bottom = log.getBoundingClientRect().bottom;
  const nodes = log.querySelectorAll('.msg[data-seq]');
  for (let k = nodes.length - 1; k >= 0; k--) {
    if (nodes[k].getBoundingClientRect().top < bottom) {
      seen.seq = Math.max(seen.seq, Number(nodes[k].dataset.seq));
      break;
    }
  }
  const away = log.scrollHeight - log.scrollTop - log.clientHeight > AWAY_PX;
  const fresh = away ? room.list.filter((m) => m.seq > seen.seq && m.from !== store.me && !m.deleted).length : 0;
  button.hidden = !away;
  const label = fresh ? `${fresh > 99 ? '99+' : fresh} new message${fresh === 1 ? '' : 's'}` : 'Jump to latest';
  button.classList.toggle('fresh', fresh > 0);
  const text = button.querySelector('.jump-label');
  if (text.textContent !== label) text.textContent = label;
  button.setAttribute('aria-label', fresh ? `${label}, jump to latest` : label);
}
