// The profile and account dialog, the admin dialog and the confirmation dialog (protocol v2 §5), drawn from
// what the account actions pass in; user text only as DOM text.

import { store } from '../state.js';
import { h, reconcile } from './dom.js';

const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const formatWhen = (ms) => when.format(new Date(ms));

const $ = (id) => document.getElementById(id);

/** Initials of a display name (or the avatar picture, once the server has one). */
export function fillAvatar(node, username) {
  const p = store.profile(username);
  const name = store.displayName(username);
  const letters = [...String(name)].filter((c) => /[\p{L}\p{N}]/u.test(c));
  const words = String(name).split(/\s+/).filter(Boolean);
  const initials = words.length > 1
    ? [...words[0]].find((c) => /[\p{L}\p{N}]/u.test(c)) + ([...words.at(-1)].find((c) => /[\p{L}\p{N}]/u.test(c)) ?? '')
    : letters.slice(0, 2).join('');
  node.textContent = (initials || '?').toUpperCase();
  let x = 7;
  for (const ch of String(username)) x = (x * 31 + ch.codePointAt(0)) >>> 0;
  node.style.setProperty('--hue', String(x % 360));
  const url = p?.avatar_url;
  node.classList.toggle('has-image', !!url);
  node.style.backgroundImage = url ? `url("${encodeURI(url)}")` : '';
}

/** A person's avatar for lists and messages: their picture, or the initials of their display name. */
export function personAvatar(username) {
  const node = h('span', { className: 'avatar', attrs: { 'aria-hidden': 'true' } });
  fillAvatar(node, username);
  return node;
}

/** The footer: display name, @username, avatar; the Admin button for admins. */
export function renderMe() {
  const me = store.me;
  if (!me) return;
  $('me-name').textContent = store.displayName(me);
  $('me-username').textContent = `@${me}`;
  // Named by what it shows (for speech input), then what it opens.
  $('account-button').setAttribute('aria-label', `${store.displayName(me)} @${me}: Profile and account`);
  fillAvatar($('me-avatar'), me);
  $('admin-button').hidden = !store.admin;
}

export function renderProfile() {
  const me = store.me;
  fillAvatar($('profile-avatar'), me);
  $('profile-display-name').value = store.displayName(me);
  $('profile-hint').textContent = `Shown to others beside your username @${me}. Up to 64 characters.`;
  $('password-username').value = me;
  const hasPicture = !!store.profile(me)?.avatar_url;
  $('avatar-note').textContent = hasPicture ? 'Your picture is shown to others.' : 'No picture: others see your initials.';
  $('avatar-upload').textContent = hasPicture ? 'Change picture' : 'Upload picture';
  $('avatar-remove').hidden = !hasPicture;
}

/** "Firefox on Linux" from a User-Agent header, or the header itself when it is not one of the usual browsers. */
export function describeAgent(ua) {
  if (!ua) return 'Unknown device';
  const browser = /Edg\//.test(ua) ? 'Edge' : /OPR\//.test(ua) ? 'Opera' : /Firefox\//.test(ua) ? 'Firefox'
    : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : null;
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Windows/.test(ua) ? 'Windows'
    : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : null;
  return browser ? `${browser}${os ? ` on ${os}` : ''}` : ua.slice(0, 80);
}

/** The session list: each with its device, when it signed in and was last active; "Log out" for the others. */
export function renderSessions(list, { onRevoke }) {
  reconcile($('session-list'), list.map((s) => ({
    key: `${s.id}:${s.last_seen}`,
    render(prev) {
      if (prev) return prev;
      const device = describeAgent(s.user_agent);
      const title = h('div', { className: 'title' }, h('bdi', { text: device }));
      if (s.current) title.append(h('span', { className: 'pill', text: 'This device' }));
      return h('li', { className: 'account-item' },
        h('div', { className: 'grow' }, title,
          h('div', { className: 'sub', text: `Signed in ${formatWhen(s.created)} · active ${formatWhen(s.last_seen)}`, attrs: { title: s.user_agent ?? '' } })),
        h('button', {
          className: 'btn secondary small',
          text: 'Log out',
          attrs: { type: 'button', 'aria-label': `Log out this device: ${device}${s.current ? ' (this device)' : ''}, last active ${formatWhen(s.last_seen)}` },
          on: { click: () => onRevoke(s, device) },
        }));
    },
  })));
}

export function renderBlocks(names, { onUnblock }) {
  reconcile($('block-list'), names.map((name) => ({
    key: name,
    render(prev) {
      if (prev) return prev;
      return h('li', { className: 'account-item' },
        h('div', { className: 'grow' },
          h('div', { className: 'title' }, h('bdi', { text: store.displayName(name) })),
          h('div', { className: 'sub', text: `@${name}` })),
        h('button', { className: 'btn secondary small', text: 'Unblock', attrs: { type: 'button', 'aria-label': `Unblock ${name}` }, on: { click: () => onUnblock(name) } }));
    },
  })));
  $('blocks-empty').hidden = names.length > 0;
}

/** Users the admin search found, each with Disable or Enable (the admin's own account has none). */
export function renderAdminResults(list, { onToggle }) {
  reconcile($('admin-results'), list.map((u) => ({
    key: `${u.username}:${u.status}:${u.display_name}`,
    render(prev) {
      if (prev) return prev;
      const avatarNode = h('span', { className: 'avatar', attrs: { 'aria-hidden': 'true' } });
      const disabled = u.status === 'disabled';
      const title = h('div', { className: 'title' }, h('bdi', { text: u.display_name }));
      if (u.admin) title.append(h('span', { className: 'pill', text: 'Admin' }));
      title.append(h('span', { className: `pill${disabled ? ' off' : ''}`, text: disabled ? 'Disabled' : 'Active' }));
      const li = h('li', { className: 'account-item' }, avatarNode,
        h('div', { className: 'grow' }, title, h('div', { className: 'sub', text: `@${u.username}${u.online ? ' · online' : ''}` })));
      store.setProfiles([u]);
      fillAvatar(avatarNode, u.username);
      if (u.username !== store.me) {
        li.append(h('button', {
          className: `btn ${disabled ? 'secondary' : 'danger'} small`,
          text: disabled ? 'Enable' : 'Disable',
          attrs: { type: 'button', 'aria-label': `${disabled ? 'Enable' : 'Disable'} ${u.username}` },
          on: { click: () => onToggle(u) },
        }));
      }
      return li;
    },
  })));
  $('admin-count').textContent = list.length === 1 ? '1 user found.' : `${list.length} users found.`;
}

/** The block button in a direct room's header: Block or Unblock the other person. */
export function renderBlockButton(other, blocked) {
  const b = $('block-button');
  b.hidden = !other;
  if (!other) return;
  b.textContent = blocked ? 'Unblock' : 'Block';
  b.setAttribute('aria-label', `${blocked ? 'Unblock' : 'Block'} ${other}`);
}

/**
 * Asks before a destructive action; resolves true when confirmed. Enter confirms, Escape or Cancel does not;
 * focus starts on Cancel and returns to where it was.
 */
export function confirmAction({ title, text, confirm }) {
  const d = $('confirm-dialog');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = confirm;
  const back = document.activeElement;
  return new Promise((resolve) => {
    d.returnValue = '';
    d.addEventListener('close', () => {
      resolve(d.returnValue === 'ok');
      if (back && back.isConnected) back.focus();
    }, { once: true });
    d.showModal();
    (document.getElementById('confirm-cancel') ?? d.querySelector('[data-close]'))?.focus();
  });
}
