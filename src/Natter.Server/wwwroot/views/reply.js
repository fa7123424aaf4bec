// Replies: the "Replying to X" bar over the message box, the quote of the original in a reply, and the brief
// highlight of a message jumped to.

import { store } from '../state.js';
import { h } from './dom.js';
import { formatText } from './format.js';
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

const QUOTE_CHARS = 140;

/**
 * The original's text formatted as messages are (formatText: DOM nodes, the user's text only as text), made one
 * line: a code block becomes inline code, a "> quote" its text, a link its text (no link inside the quote's
 * button), line breaks spaces; cut after QUOTE_CHARS characters with "…" (CSS ellipsis cuts it to the width).
 */
function quoteLine(text, me) {
  const line = h('span', { className: 'quote-text', attrs: { dir: 'auto' } });
  line.append(formatText(text, me));
  for (const pre of line.querySelectorAll('pre')) pre.replaceWith(' ', h('code', { className: 'code', text: pre.textContent }), ' ');
  for (const q of line.querySelectorAll('blockquote')) q.replaceWith(' ', ...q.childNodes, ' ');
  for (const a of line.querySelectorAll('a')) a.replaceWith(a.textContent);
  const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
  const texts = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) texts.push(n);
  // Runs of white space (line breaks too) become one space across the nodes; none leads.
  let left = QUOTE_CHARS;
  let afterSpace = true;
  let kept = null;
  for (const n of texts) {
    if (left <= 0) {
      if (kept && n.data.trim() && !kept.data.endsWith('…')) kept.data = `${kept.data.trimEnd()}…`;
      n.remove();
      continue;
    }
    let flat = n.data.replace(/\s+/gu, ' ');
    if (afterSpace && flat.startsWith(' ')) flat = flat.slice(1);
    const chars = [...flat];
    if (chars.length > left) {
      n.data = `${chars.slice(0, left).join('').trimEnd()}…`;
      left = 0;
    } else {
      n.data = flat;
      left -= chars.length;
      if (flat) afterSpace = flat.endsWith(' ');
    }
    if (n.data) kept = n;
  }
  for (const el of [...line.querySelectorAll('*')].reverse()) if (!el.textContent) el.remove();
  return line;
}

/** The quote of the message a reply answers: its author and the start of its text, formatted; a click jumps to it. */
export function quoteNode(room, m) {
  const orig = room.list.find((x) => x.seq === m.reply_to) ?? intents.quoted(room.id, m.reply_to);
  const line = !orig ? h('span', { className: 'quote-text', text: 'an earlier message' })
    : orig.deleted ? h('span', { className: 'quote-text', text: 'message deleted' })
    : quoteLine(orig.text, store.me);
  return h('button', {
    className: 'quote',
    attrs: { type: 'button', 'aria-label': `Reply to ${orig ? orig.from : 'an earlier message'}: ${line.textContent}. Show it` },
    on: { click: () => intents.jumpTo(m.room, m.reply_to) },
  }, h('span', { className: 'quote-from', text: orig ? orig.from : '' }), line);
}

/** Redraws the quotes of the shown replies to seq (its original has just been fetched, edited or deleted). */
export function redrawQuotes(roomId, seq) {
  const room = store.room(roomId);
  const log = document.getElementById('messages');
  if (!room || !log || store.activeId !== roomId) return;
  // The quote grows by its author's line: a log read to the bottom stays at the bottom.
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 4;
  for (const n of log.querySelectorAll('.msg')) {
    if (n.msg?.reply_to === seq) n.querySelector('.quote')?.replaceWith(quoteNode(room, n.msg));
  }
  if (atBottom) log.scrollTop = log.scrollHeight;
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
