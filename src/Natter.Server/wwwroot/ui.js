// Rendering. Every piece of user data (names, message text, room names) goes into the page through
// textContent or attribute setters, never parsed as HTML, so markup in a message is shown as text.

import { roomTitle } from './store.js';

/** Creates an element: h('div', {className, text, attrs: {...}, on: {click}}, ...children). */
export function h(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  const { className, text, attrs, on, dataset } = props;
  if (className) e.className = className;
  if (text != null) e.textContent = String(text);
  if (attrs) for (const [k, v] of Object.entries(attrs)) if (v != null && v !== false) e.setAttribute(k, v === true ? '' : String(v));
  if (dataset) Object.assign(e.dataset, dataset);
  if (on) for (const [k, fn] of Object.entries(on)) e.addEventListener(k, fn);
  for (const c of children) if (c != null && c !== false) e.append(c);
  return e;
}

/**
 * Keyed update of a container's children: entries [{key, render(existing|null) -> Element}].
 * Existing nodes are reused and only moved when out of place, so focus, scroll position and the
 * live region's "additions" stay meaningful.
 */
export function reconcile(container, entries) {
  const old = new Map();
  for (const child of container.children) if (child.dataset.key) old.set(child.dataset.key, child);
  let i = 0;
  for (const { key, render } of entries) {
    const prev = old.get(key) ?? null;
    old.delete(key);
    const node = render(prev);
    node.dataset.key = key;
    const at = container.children[i];
    if (at !== node) container.insertBefore(node, at ?? null);
    i++;
  }
  for (const stale of old.values()) stale.remove();
}

function hue(name) {
  let x = 0;
  for (const ch of String(name)) x = (x * 31 + ch.codePointAt(0)) >>> 0;
  return x % 360;
}

export function avatar(username, className = 'avatar') {
  const a = h('span', { className, text: String(username || '?').replace(/[^\p{L}\p{N}]/gu, '').slice(0, 2).toUpperCase() || '?', attrs: { 'aria-hidden': 'true' } });
  a.style.setProperty('--hue', String(hue(username)));
  return a;
}

export function setAvatar(node, username) {
  node.textContent = String(username || '?').slice(0, 2).toUpperCase();
  node.style.setProperty('--hue', String(hue(username)));
}

const timeFmt = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' });
const dayYearFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });

export const formatTime = (ts) => timeFmt.format(new Date(ts));

function dayKey(ts) {
  const d = new Date(ts);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

export function dayLabel(ts, now = new Date()) {
  const d = new Date(ts);
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const that = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  const days = Math.round((today - that) / 86400000);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  return d.getFullYear() === now.getFullYear() ? dayFmt.format(d) : dayYearFmt.format(d);
}

/** The room list in the sidebar: name, kind marker, unread badge; the open room is aria-current. */
export function renderRoomList(ul, rooms, { activeId, me, onOpen }) {
  const sorted = [...rooms].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'group' ? -1 : 1)
    || roomTitle(a, me).localeCompare(roomTitle(b, me)));
  reconcile(ul, sorted.map((room) => ({
    key: room.id,
    render(li) {
      li ??= h('li', {}, h('button', { className: 'room-item', attrs: { type: 'button' }, on: { click: () => onOpen(li.dataset.key) } },
        h('span', { className: 'room-icon', attrs: { 'aria-hidden': 'true' } }),
        h('span', { className: 'room-name' }),
        h('span', { className: 'badge' })));
      const btn = li.firstChild;
      const [icon, name, badge] = btn.children;
      const title = roomTitle(room, me);
      const unread = room.id === activeId ? 0 : room.unread;
      icon.textContent = room.kind === 'direct' ? '@' : '#';
      name.textContent = title;
      badge.textContent = unread > 99 ? '99+' : String(unread);
      badge.hidden = unread === 0;
      btn.classList.toggle('unread', unread > 0);
      btn.dataset.kind = room.kind;
      if (room.id === activeId) btn.setAttribute('aria-current', 'page'); else btn.removeAttribute('aria-current');
      btn.setAttribute('aria-label', unread ? `${title}, ${unread} unread` : title);
      return li;
    },
  })));
}

/** Other people online; a click opens a direct message. */
export function renderOnline(ul, usernames, { onMessage }) {
  reconcile(ul, [...usernames].sort().map((name) => ({
    key: name,
    render(li) {
      return li ?? h('li', {}, h('button', {
        className: 'person', attrs: { type: 'button', 'aria-label': `Message ${name}` }, on: { click: () => onMessage(name) },
      }, avatar(name), h('span', { className: 'person-name', text: name }), h('span', { className: 'dot', attrs: { 'aria-hidden': 'true' } })));
    },
  })));
}

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

  for (const m of room.list) {
    const newDay = addDay(m.ts);
    const cont = !newDay && prev && prev.from === m.from && m.ts - prev.ts < 5 * 60000;
    entries.push({ key: `m${m.seq}`, render: (n) => messageNode(n, m, { me, cont }) });
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
    ? [...room.readers].filter(([u, seq]) => seq >= last.seq && u !== me && u !== last.from).map(([u]) => u).sort()
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
  reconcile(log, entries);
}

function messageShell(own, cont) {
  const n = h('div', { className: 'msg' },
    h('span', { className: 'avatar-slot' }),
    h('div', { className: 'bubble' },
      h('div', { className: 'meta' }, h('span', { className: 'author' }), h('time')),
      h('div', { className: 'text' }),
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
  time.title = fullFmt.format(new Date(ts));
  if (body.textContent !== text) body.textContent = text;
}

function messageNode(n, m, opts) {
  if (n && n.dataset.seq === String(m.seq)) {
    n.classList.toggle('cont', !!opts.cont);
    return n;
  }
  n = messageShell(m.from === opts.me, opts.cont);
  n.dataset.seq = String(m.seq);
  n.dataset.from = m.from;
  fillMeta(n, m.from, m.ts, m.text, opts);
  n.querySelector('.status').hidden = true;
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

/** Public rooms in the browse dialog, each with a Join (or Open, when already a member) button. */
export function renderPublicRooms(ul, list, { isMember, onJoin }) {
  reconcile(ul, list.map((r) => ({
    key: r.id,
    render() {
      const member = isMember(r.id);
      return h('li', { className: 'public-room' },
        h('span', { className: 'room-icon', text: '#', attrs: { 'aria-hidden': 'true' } }),
        h('span', { className: 'public-name', text: r.name }),
        h('span', { className: 'muted members', text: `${r.members} ${r.members === 1 ? 'member' : 'members'}` }),
        h('button', {
          className: `btn ${member ? 'secondary' : 'primary'} small`,
          text: member ? 'Open' : 'Join',
          attrs: { type: 'button', 'aria-label': `${member ? 'Open' : 'Join'} ${r.name}` },
          on: { click: () => onJoin(r) },
        }));
    },
  })));
}

let toastTimer = 0;
/** A short message at the bottom of the screen, also read by screen readers. */
export function toast(text) {
  const t = document.getElementById('toast');
  t.textContent = text;
  t.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.remove('show'), 4000);
}
