// The message log of the open room: stored messages, this user's pending sends, day separators, "seen by".

import { roomTitle } from '../state.js';
import { fillParts, openMenu } from './message-parts.js';
import { quoteNode } from './reply.js';
import { setFormatted } from './format.js';
import { dividerEntry, dividerSeq, jumpEntry } from './unread.js';
import { avatar, dayKey, dayLabel, formatFull, formatTime, h, reconcile } from './dom.js';

/**
 * The message log: an optional top notice, day separators, stored messages (grouped when the same
 * author writes again within five minutes), then this user's pending sends and a "seen by" line.
 */
export function renderMessages(log, { room, me, pending, online, onRetry, onDiscard }) {
  const entries = [];
  entries.push({
    key: 'top',
    render(n) {
      n ??= h('div', { className: 'log-top' });
      n.textContent = room.loadingOlder ? 'Loading earlier messages…'
        : room.hasOlder ? 'Scroll up for earlier messages'
          : room.kind === 'direct' ? `This is the beginning of your conversation with ${roomTitle(room, me)}.`
            : `This is the beginning of ${roomTitle(room, me)}.`;
      n.classList.toggle('start', !room.hasOlder && !room.loadingOlder);
      return n;
    },
  });

  let prev = null;
  const addDay = (ts) => {
    const k = dayKey(ts);
    if (prev && dayKey(prev.ts) === k) return false;
    entries.push({
      key: `day-${k}`,
      render: (n) => {
        n ??= h('div', { className: 'day', attrs: { role: 'separator' } }, h('span'));
        n.firstChild.textContent = dayLabel(ts);
        n.setAttribute('aria-label', dayLabel(ts));
        return n;
      },
    });
    return true;
  };

  const divider = dividerSeq(room, me);
  for (const m of room.list) {
    const newDay = addDay(m.ts);
    if (m.seq === divider) entries.push(dividerEntry());
    const cont = !newDay && m.seq !== divider && prev && prev.from === m.from && m.ts - prev.ts < 5 * 60000;
    entries.push({ key: `m${m.seq}`, render: (n) => messageNode(n, m, { me, cont, room }) });
    prev = m;
  }

  for (const p of pending) {
    const ts = p.createdAt;
    const newDay = addDay(ts);
    const cont = !newDay && prev && prev.from === me;
    entries.push({ key: `p${p.client_id}`, render: (n) => pendingNode(n, p, { me, cont, online, onRetry, onDiscard }) });
    prev = { from: me, ts };
  }

  const last = room.list.at(-1);
  const seenBy = last && !pending.length
    ? room.readers.filter(([u, seq]) => seq >= last.seq && u !== me && u !== last.from).map(([u]) => u).sort()
    : [];
  if (seenBy.length) {
    entries.push({
      key: 'seen',
      render: (n) => {
        n ??= h('div', { className: 'seen' });
        n.textContent = `Seen by ${seenBy.join(', ')}`;
        n.classList.toggle('own', last.from === me);
        return n;
      },
    });
  }
  entries.push(jumpEntry());
  reconcile(log, entries);
}

/** One message. It can take focus (arrow keys in the log), which shows a grouped message's time. */
function messageShell(own, cont) {
  const n = h('div', { className: 'msg', attrs: { tabindex: '-1' } },
    h('span', { className: 'avatar-slot' }),
    h('div', { className: 'bubble' },
      h('div', { className: 'meta' }, h('span', { className: 'author', attrs: { dir: 'auto' } }), h('time')),
      h('div', { className: 'text', attrs: { dir: 'auto' } }),
      h('span', { className: 'edited', text: '(edited)', attrs: { hidden: true } }),
      h('div', { className: 'reactions', attrs: { hidden: true } }),
      h('div', { className: 'status' })));
  n.classList.toggle('own', own);
  n.classList.toggle('cont', cont);
  return n;
}

function fillMeta(n, from, ts, text, { me, cont }) {
  const [slot, bubble] = n.children;
  const [meta, body] = bubble.children;
  n.classList.toggle('own', from === me);
  n.classList.toggle('cont', !!cont);
  if (!slot.firstChild && from !== me) slot.append(avatar(from));
  const [author, time] = meta.children;
  author.textContent = from === me ? 'You' : from;
  time.dateTime = new Date(ts).toISOString();
  time.textContent = formatTime(ts);
  time.title = formatFull(ts);
  setFormatted(body, text, me);
}

function messageNode(n, m, opts) {
  if (n && n.dataset.seq === String(m.seq)) {
    n.classList.toggle('cont', !!opts.cont);
    n.msg = m;
    if (n.dataset.rev !== String(m.rev ?? 0)) {
      n.dataset.rev = String(m.rev ?? 0);
      fillParts(n, m, opts.me);
    }
    return n;
  }
  n = messageShell(m.from === opts.me, opts.cont);
  n.dataset.seq = String(m.seq);
  n.dataset.from = m.from;
  n.dataset.rev = String(m.rev ?? 0);
  fillMeta(n, m.from, m.ts, m.text, opts);
  n.querySelector('.status').hidden = true;
  const more = h('button', { className: 'more', text: '⋯', attrs: { type: 'button', 'aria-label': 'More actions', 'aria-haspopup': 'menu', 'aria-expanded': 'false' } });
  more.addEventListener('click', () => openMenu(more, n.msg, opts.me));
  n.querySelector('.bubble').append(more);
  n.msg = m;
  if (Number.isInteger(m.reply_to)) n.querySelector('.text').before(quoteNode(opts.room, m));
  fillParts(n, m, opts.me);
  return n;
}

function pendingNode(n, p, { me, cont, online, onRetry, onDiscard }) {
  n ??= messageShell(true, cont);
  n.classList.add('pending');
  n.dataset.clientId = p.client_id;
  fillMeta(n, me, p.createdAt, p.text, { me, cont });
  const failed = p.status === 'failed';
  n.classList.toggle('failed', failed);
  const status = n.querySelector('.status');
  const shown = failed ? 'failed' : online ? 'sending' : 'waiting';
  if (status.dataset.state !== shown || status.dataset.error !== (p.error ?? '')) {
    status.dataset.state = shown;
    status.dataset.error = p.error ?? '';
    status.replaceChildren();
    if (failed) {
      status.append(
        h('span', { text: `Not sent: ${p.error || 'refused'}` }),
        h('button', { className: 'btn link', text: 'Retry', attrs: { type: 'button' }, on: { click: () => onRetry(p.client_id) } }),
        h('button', { className: 'btn link', text: 'Discard', attrs: { type: 'button' }, on: { click: () => onDiscard(p.client_id) } }));
    } else {
      status.append(h('span', { text: online ? 'Sending…' : 'Waiting for connection…' }));
    }
  }
  return n;
}
