// Replies: the "Replying to X" bar over the message box, the quote of the original in a reply, and the brief
// highlight of a message jumped to.

import { store } from '../state.js';
import { h } from './dom.js';
import { intents } from './intents.js';

const who = (from) => (from === store.me ? 'yourself' : from);

/** Shows or hides the bar naming the message the composer answers. */
export function renderReplyBar() {
  const composer = document.getElementById('composer');
  let bar = document.getElementById('reply-bar');
  const r = store.replyTo;
  if (!r || r.room !== store.activeId) { bar?.remove(); return; }
  if (!bar) {
    bar = h('div', { className: 'reply-bar', attrs: { id: 'reply-bar', role: 'status' } },
      h('span', { className: 'reply-label' }),
      h('button', { className: 'btn link', text: 'Cancel reply', attrs: { type: 'button' }, on: { click: () => intents.cancelReply() } }));
    composer.before(bar);
  }
  bar.querySelector('.reply-label').textContent = `Replying to ${who(r.from)}`;
}

/** The quote of the message a reply answers: its author and the start of its text; a click jumps to it. */
export function quoteNode(room, m) {
  const orig = room.list.find((x) => x.seq === m.reply_to);
  const text = !orig ? 'an earlier message' : orig.deleted ? 'message deleted' : orig.text.slice(0, 140);
  return h('button', {
    className: 'quote',
    attrs: { type: 'button', 'aria-label': `Reply to ${orig ? orig.from : 'an earlier message'}: ${text}. Show it` },
    on: { click: () => intents.jumpTo(m.room, m.reply_to) },
  }, h('span', { className: 'quote-from', text: orig ? orig.from : '' }), h('span', { className: 'quote-text', text, attrs: { dir: 'auto' } }));
}

/** Scrolls a shown message into view, focuses it and highlights it for a moment; false when not shown. */
export function highlight(seq) {
  const n = document.querySelector(`#messages .msg[data-seq="${Number(seq)}"]`);
  if (!n) return false;
  n.scrollIntoView({ block: 'center' });
  n.focus({ preventScroll: true });
  n.classList.remove('flash');
  void n.offsetWidth;
  n.classList.add('flash');
  setTimeout(() => n.classList.remove('flash'), 2000);
  return true;
}
