// The lists: rooms in the sidebar, people online, public rooms in the browse dialog.

import { roomTitle, store } from '../state.js';
import { h, reconcile } from './dom.js';
import { personAvatar } from './account.js';

/** The room list in the sidebar: name, kind marker, unread badge; the open room is aria-current. */
export function renderRoomList(ul, rooms, { activeId, me, onOpen }) {
  const sorted = [...rooms].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'group' ? -1 : 1)
    || roomTitle(a, me).localeCompare(roomTitle(b, me)));
  reconcile(ul, sorted.map((room) => ({
    key: room.id,
    render(li) {
      li ??= h('li', {}, h('button', { className: 'room-item', attrs: { type: 'button' }, on: { click: () => onOpen(li.dataset.key) } },
        h('span', { className: 'room-icon', attrs: { 'aria-hidden': 'true' } }),
        h('span', { className: 'room-name', attrs: { dir: 'auto' } }),
        h('span', { className: 'badge mention-badge' }),
        h('span', { className: 'badge' })));
      const btn = li.firstChild;
      const [icon, name, mentionBadge, badge] = btn.children;
      const mentions = room.id === activeId ? 0 : room.mentionCount;
      mentionBadge.textContent = `@${mentions > 99 ? '99+' : mentions}`;
      mentionBadge.hidden = mentions === 0;
      const title = roomTitle(room, me);
      const unread = room.id === activeId ? 0 : room.unread;
      icon.textContent = room.kind === 'direct' ? '@' : '#';
      name.textContent = title;
      badge.textContent = unread > 99 ? '99+' : String(unread);
      badge.hidden = unread === 0;
      btn.classList.toggle('unread', unread > 0);
      btn.dataset.kind = room.kind;
      if (room.id === activeId) btn.setAttribute('aria-current', 'page'); else btn.removeAttribute('aria-current');
      btn.setAttribute('aria-label', [title, unread && `${unread} unread`, mentions && `${mentions} mentioning you`].filter(Boolean).join(', '));
      return li;
    },
  })));
}

/**
 * Other people online; a click opens a direct message. The button is named by the name it shows (what a
 * speech-input user says to press it); what it does is its description.
 */
export function renderOnlineList(ul, usernames, { onMessage }) {
  reconcile(ul, [...usernames].sort().map((name) => ({
    // Keyed by the display name and picture too: a changed name or avatar draws the entry anew.
    key: `${name}\u0000${store.displayName(name)}\u0000${store.profile(name)?.avatar_url ?? ''}`,
    render(li) {
      const shown = store.displayName(name);
      return li ?? h('li', {}, h('button', {
        className: 'person', attrs: { type: 'button', title: `Message ${name}` }, on: { click: () => onMessage(name) },
      }, personAvatar(name), h('span', { className: 'person-name', text: shown === name ? name : `${shown} (@${name})`, attrs: { dir: 'auto' } }),
      h('span', { className: 'dot', attrs: { 'aria-hidden': 'true' } })));
    },
  })));
}

/** Public rooms in the browse dialog, each with a Join (or Open, when already a member) button. */
export function renderPublicRooms(ul, list, { isMember, onJoin }) {
  reconcile(ul, list.map((r) => ({
    key: r.id,
    render() {
      const member = isMember(r.id);
      return h('li', { className: 'public-room' },
        h('span', { className: 'room-icon', text: '#', attrs: { 'aria-hidden': 'true' } }),
        h('span', { className: 'public-name', text: r.name, attrs: { dir: 'auto' } }),
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
