// Rooms with owners (protocol v2 §4), drawn from the store and the member list the server sent: the member
// count and settings button in the room header, the member list, the settings dialog and the confirmation.
// User text only through textContent (h()).

import { store } from '../state.js';
import { avatar, h, reconcile } from './dom.js';

const $ = (id) => document.getElementById(id);

const ROLE_LABEL = { owner: 'Owner', moderator: 'Moderator', member: 'Member' };

/** The header's member count, settings button and topic line for the open room. */
export function renderRoomTools() {
  const room = store.activeRoom;
  const group = room?.kind === 'group';
  $('members-button').hidden = !group;
  $('settings-button').hidden = !group;
  if (!group) return;
  const n = room.members;
  $('members-count').textContent = String(n);
  $('members-button').setAttribute('aria-label', `${n} ${n === 1 ? 'member' : 'members'}: show the member list`);
  const parts = [room.topic || 'Group room', room.visibility === 'private' ? 'Private' : null].filter(Boolean);
  $('room-sub').textContent = parts.join(' · ');
  $('settings-button').setAttribute('aria-label', room.moderates ? 'Room settings' : 'Room details');
}

/** What the viewer (role `mine`) may do to a member: change their role (owner only), kick or ban. */
function mayAct(mine, member, me) {
  if (member.username === me) return { role: false, remove: false };
  const remove = mine === 'owner' ? member.role !== 'owner' : mine === 'moderator' && member.role === 'member';
  return { role: mine === 'owner', remove };
}

/**
 * A member list: avatar, name, role, online. With `actions` (the settings dialog) and the viewer's rights,
 * role buttons (the owner) and Kick / Ban; each control is named after the member it acts on.
 */
export function renderMembers(ul, members, { actions = null } = {}) {
  const me = store.me;
  const mine = store.activeRoom?.role ?? 'member';
  reconcile(ul, members.map((m) => ({
    // The key holds everything drawn, so a node that is kept is still right (and keeps focus).
    key: `${m.username}:${m.role}:${m.online}:${actions ? mine : ''}`,
    render(prev) {
      if (prev) return prev;
      const label = m.display_name && m.display_name !== m.username ? m.display_name : m.username;
      const who = h('span', { className: 'member-name' },
        h('bdi', { text: label }),
        m.username === me ? h('span', { className: 'muted you', text: ' (you)' }) : null);
      const role = m.role !== 'member' ? h('span', { className: `role-badge ${m.role}`, text: ROLE_LABEL[m.role] ?? m.role }) : null;
      const dot = h('span', { className: `presence-dot${m.online ? ' on' : ''}`, attrs: { role: 'img', 'aria-label': m.online ? 'online' : 'offline' } });
      const li = h('li', { className: 'member' }, avatar(m.username), dot, who, role);
      const can = actions ? mayAct(mine, m, me) : { role: false, remove: false };
      if (can.role || can.remove) {
        const tools = h('span', { className: 'member-tools' });
        if (can.role) {
          // Buttons, not a menu: a keyboard user moving through a menu's options would change the role at each step.
          const next = m.role === 'moderator' ? 'member' : 'moderator';
          tools.append(
            h('button', {
              className: 'btn secondary small', text: next === 'moderator' ? 'Make moderator' : 'Remove moderator',
              // Named by what it shows (what a speech-input user says), then whom it acts on.
              attrs: { type: 'button', 'aria-label': `${next === 'moderator' ? 'Make moderator' : 'Remove moderator'}: ${m.username}` },
              on: { click: () => actions.onRole(m.username, next) },
            }),
            h('button', {
              className: 'btn secondary small', text: 'Make owner',
              attrs: { type: 'button', 'aria-label': `Make owner: ${m.username}` },
              on: { click: () => actions.onRole(m.username, 'owner') },
            }));
        }

        if (can.remove) {
          tools.append(
            h('button', { className: 'btn secondary small', text: 'Kick', attrs: { type: 'button', 'aria-label': `Kick ${m.username}` }, on: { click: () => actions.onKick(m.username) } }),
            h('button', { className: 'btn danger-outline small', text: 'Ban', attrs: { type: 'button', 'aria-label': `Ban ${m.username}` }, on: { click: () => actions.onBan(m.username) } }));
        }

        li.append(tools);
      }

      return li;
    },
  })));
}

/** The banned users, each with an Unban button. */
export function renderBans(bans, onUnban) {
  reconcile($('bans-list'), bans.map((name) => ({
    key: name,
    render(prev) {
      return prev ?? h('li', { className: 'member' }, avatar(name), h('span', { className: 'member-name' }, h('bdi', { text: name })),
        h('span', { className: 'member-tools' },
          h('button', { className: 'btn secondary small', text: 'Unban', attrs: { type: 'button', 'aria-label': `Unban ${name}` }, on: { click: () => onUnban(name) } })));
    },
  })));
  $('bans-empty').hidden = bans.length > 0;
}

/** Fills the settings form from the room; who may change what decides which parts show. */
export function fillSettings(room) {
  $('settings-title').textContent = room.moderates ? 'Room settings' : 'Room details';
  $('settings-name').value = room.name;
  $('settings-topic').value = room.topic;
  $(room.visibility === 'private' ? 'settings-private' : 'settings-public').checked = true;
  const may = room.moderates;
  for (const id of ['settings-name', 'settings-topic', 'settings-public', 'settings-private']) $(id).disabled = !may;
  $('settings-save-row').hidden = !may;
  $('invite-form').hidden = !may;
  $('bans-section').hidden = !may;
  $('delete-section').hidden = room.role !== 'owner';
  $('settings-error').textContent = '';
  $('members-action-error').textContent = '';
  const limits = store.limits;
  if (limits) $('settings-name').maxLength = limits.room_name_max;
}

export function setMemberCount(n) {
  $('settings-count').textContent = `(${n})`;
}

/** The confirmation dialog; resolves true when the user confirms (Escape and Cancel are false). */
export function confirmAction({ title, text, ok }) {
  const d = $('confirm-dialog');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = ok;
  d.returnValue = '';
  return new Promise((resolve) => {
    d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
    d.showModal();
  });
}
