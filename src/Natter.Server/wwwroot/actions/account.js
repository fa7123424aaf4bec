// Account actions (protocol v2 §5): who the user is (display name, admin), the profile and account dialog,
// blocking from a direct room's header, and the admin page.

import { api } from '../api.js';
import { roomTitle, store } from '../state.js';
import * as view from '../views/account.js';
import { toast } from '../views/dom.js';
import { renderActive } from '../views/room.js';
import * as screens from '../views/screens.js';

const $ = (id) => document.getElementById(id);

/** Usernames this user blocks (for the direct room's Block/Unblock button). */
let blocked = new Set();

/** Redraws whatever shows names: the footer, the lists, the open room. */
function redrawNames() {
  view.renderMe();
  screens.renderOnline();
  renderActive();
  renderBlockButton();
}

/** The session started: who am I (display name, admin), everyone's names, whom I block. */
export async function loadAccount() {
  view.renderMe();
  const [me, users, blocks] = await Promise.allSettled([api.me(), api.users(), api.blocks()]);
  if (!store.me) return;
  if (me.status === 'fulfilled') {
    store.setProfiles([me.value]);
    store.setAdmin(me.value.admin === true);
  }
  if (users.status === 'fulfilled' && Array.isArray(users.value)) store.setProfiles(users.value);
  if (blocks.status === 'fulfilled' && Array.isArray(blocks.value)) blocked = new Set(blocks.value);
  redrawNames();
}

/** User objects that came with another answer (the online list): redraw when a name changed. */
export function learnProfiles(list) {
  if (store.setProfiles(list)) redrawNames();
}

function describe(e) {
  return e?.detail || e?.message || 'Something went wrong.';
}

// ---------------------------------------------------------------- profile and account dialog

export async function openAccount() {
  for (const id of ['profile-error', 'password-error', 'password-ok', 'sessions-error', 'blocks-error']) $(id).textContent = '';
  $('password-current').value = '';
  $('password-new').value = '';
  view.renderProfile();
  $('account-dialog').showModal();
  $('profile-display-name').focus();
  await Promise.all([refreshSessions(), refreshBlocks()]);
}

export async function saveProfile() {
  const name = $('profile-display-name').value.trim();
  if (!name) {
    $('profile-error').textContent = 'Enter a display name.';
    return;
  }
  $('profile-error').textContent = '';
  try {
    const me = await api.updateProfile({ display_name: name });
    store.setProfiles([me]);
    view.renderProfile();
    redrawNames();
    toast('Profile saved.');
  } catch (e) {
    $('profile-error').textContent = describe(e);
  }
}

/**
 * A new profile picture: the image is uploaded as a file (POST /api/files), then named as the avatar
 * (PATCH /api/me {avatar}); the server checks that it is an image this user uploaded.
 */
export async function uploadAvatar(file) {
  if (!file) return;
  $('profile-error').textContent = '';
  $('avatar-upload').disabled = true;
  $('avatar-note').textContent = `Uploading ${file.name}…`;
  try {
    const form = new FormData();
    form.append('file', file, file.name);
    const res = await fetch('/api/files', { method: 'POST', body: form, headers: { Accept: 'application/json, application/problem+json' } });
    const body = await res.json().catch(() => null);
    if (res.status !== 201 || !body?.id) throw new Error(body?.detail || body?.title || `the server answered ${res.status}`);
    await setAvatar(body.id, 'Picture saved.');
  } catch (e) {
    $('profile-error').textContent = `Picture not saved: ${describe(e)}`;
    view.renderProfile();
  } finally {
    $('avatar-upload').disabled = false;
    $('avatar-file').value = '';
  }
}

export async function removeAvatar() {
  $('profile-error').textContent = '';
  try {
    await setAvatar(null, 'Picture removed.');
  } catch (e) {
    $('profile-error').textContent = describe(e);
  }
}

async function setAvatar(fileId, done) {
  const me = await api.updateProfile({ avatar: fileId });
  store.setProfiles([me]);
  view.renderProfile();
  redrawNames();
  toast(done);
}

export async function changePassword() {
  const current = $('password-current').value;
  const next = $('password-new').value;
  $('password-ok').textContent = '';
  if (!current || !next) {
    $('password-error').textContent = !current ? 'Enter your current password.' : 'Enter a new password.';
    return;
  }
  const min = store.limits?.password_min;
  if (min && [...next].length < min) {
    $('password-error').textContent = `A new password needs at least ${min} characters.`;
    return;
  }
  $('password-error').textContent = '';
  try {
    await api.changePassword(current, next);
    $('password-current').value = '';
    $('password-new').value = '';
    $('password-ok').textContent = 'Password changed. Every other device was signed out.';
    await refreshSessions();
  } catch (e) {
    $('password-error').textContent = e.status === 403 ? 'That is not your current password.' : describe(e);
  }
}

async function refreshSessions() {
  try {
    const list = await api.sessions();
    view.renderSessions(Array.isArray(list) ? list : [], { onRevoke: revokeSession });
    $('sessions-error').textContent = '';
  } catch (e) {
    $('sessions-error').textContent = describe(e);
  }
}

async function revokeSession(session, device) {
  const ok = await view.confirmAction({
    title: session.current ? 'Log out here?' : 'Log out that device?',
    text: session.current
      ? 'You will be signed out of this browser.'
      : `${device} will be signed out at once and must log in again.`,
    confirm: 'Log out',
  });
  if (!ok) return;
  try {
    await api.revokeSession(session.id);
  } catch (e) {
    $('sessions-error').textContent = describe(e);
    return;
  }
  if (session.current) {
    $('account-dialog').close();
    const { endSession } = await import('./session.js');
    endSession('You logged out of this device.');
    return;
  }
  toast(`${device} was logged out.`);
  await refreshSessions();
}

async function refreshBlocks() {
  try {
    const list = await api.blocks();
    blocked = new Set(Array.isArray(list) ? list : []);
    drawBlocks();
    $('blocks-error').textContent = '';
  } catch (e) {
    $('blocks-error').textContent = describe(e);
  }
}

function drawBlocks() {
  view.renderBlocks([...blocked].sort(), { onUnblock: (name) => unblock(name) });
  renderBlockButton();
}

export async function blockByName(raw) {
  const name = String(raw ?? '').trim().toLowerCase().replace(/^@/, '');
  if (!name) {
    $('blocks-error').textContent = 'Enter the username of the person to block.';
    return;
  }
  if (await block(name, (text) => { $('blocks-error').textContent = text; })) $('block-name').value = '';
}

/** Blocks after asking; true when blocked. */
async function block(name, showError) {
  const ok = await view.confirmAction({
    title: `Block ${name}?`,
    text: `${store.displayName(name)} (@${name}) will no longer be able to send you direct messages. Rooms you share are not affected. You can unblock them later.`,
    confirm: 'Block',
  });
  if (!ok) return false;
  try {
    await api.block(name);
  } catch (e) {
    showError(e.status === 404 ? `There is no user called ${name}.` : describe(e));
    return false;
  }
  blocked.add(name);
  drawBlocks();
  toast(`You blocked ${name}.`);
  return true;
}

async function unblock(name) {
  try {
    await api.unblock(name);
  } catch (e) {
    $('blocks-error').textContent = describe(e);
    return;
  }
  blocked.delete(name);
  drawBlocks();
  toast(`You unblocked ${name}.`);
}

// ---------------------------------------------------------------- the direct room's Block button

/** The other person of the open direct room, or null. */
function directPeer() {
  const room = store.activeRoom;
  return room?.kind === 'direct' ? roomTitle(room, store.me) : null;
}

export function renderBlockButton() {
  const other = directPeer();
  view.renderBlockButton(other, other ? blocked.has(other) : false);
  const room = store.activeRoom;
  if (other && room && store.profile(other)) {
    const shown = store.displayName(other);
    if (shown !== other) $('room-sub').textContent = `${shown} · ${$('room-sub').textContent.split(' · ').at(-1)}`;
  }
}

export async function toggleBlockActive() {
  const other = directPeer();
  if (!other) return;
  if (blocked.has(other)) await unblock(other);
  else await block(other, (text) => toast(text));
}

// ---------------------------------------------------------------- admin page

export async function openAdmin() {
  $('admin-error').textContent = '';
  $('admin-dialog').showModal();
  $('admin-query').focus();
  await findUsers($('admin-query').value);
}

export async function findUsers(q) {
  try {
    const list = await api.findUsers(String(q ?? '').trim());
    view.renderAdminResults(Array.isArray(list) ? list : [], { onToggle: toggleUser });
    $('admin-error').textContent = '';
  } catch (e) {
    $('admin-error').textContent = e.status === 403 ? 'Only server admins may use this page.' : describe(e);
  }
}

async function toggleUser(u) {
  const disable = u.status !== 'disabled';
  const ok = await view.confirmAction(disable
    ? {
      title: `Disable ${u.username}?`,
      text: `${u.display_name} (@${u.username}) will be signed out everywhere at once and cannot log in until an admin enables the account again.`,
      confirm: 'Disable account',
    }
    : { title: `Enable ${u.username}?`, text: `${u.display_name} (@${u.username}) will be able to log in again.`, confirm: 'Enable account' });
  if (!ok) return;
  try {
    await api.setUserStatus(u.username, disable ? 'disabled' : 'active');
    toast(disable ? `${u.username} was disabled.` : `${u.username} was enabled.`);
  } catch (e) {
    $('admin-error').textContent = describe(e);
  }
  await findUsers($('admin-query').value);
}
