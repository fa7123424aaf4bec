// Rooms with owners (protocol v2 §4): the member list, the settings dialog (name, topic, visibility, invite, kick,
// ban, roles, delete), and the `room` and `member` frames that change them. Destructive actions ask first.

import { api } from '../api.js';
import { roomTitle, store } from '../state.js';
import { toast } from '../views/dom.js';
import * as roomView from '../views/room.js';
import { confirmAction, fillSettings, renderBans, renderMembers, setMemberCount } from '../views/room-settings.js';
import * as screens from '../views/screens.js';
import { refreshRoomsSoon, removeRoom } from './rooms.js';

const $ = (id) => document.getElementById(id);

/** The room whose dialog is open (members or settings), or null. */
let dialogRoom = null;

const isOpen = (id) => $(id).open;

async function loadMembers(room) {
  const list = await api.members(room.id);
  if (isOpen('members-dialog')) renderMembers($('members-list'), list);
  if (isOpen('settings-dialog')) {
    renderMembers($('settings-members'), list, { actions: { onRole: setRole, onKick: kick, onBan: ban } });
    setMemberCount(list.length);
  }

  if (room.members !== list.length) {
    store.upsertRoom({ id: room.id, members: list.length });
    roomView.renderRoomHeader();
  }

  if (isOpen('settings-dialog') && room.moderates) renderBans(await api.bans(room.id), unban);
}

function refreshOpenDialog() {
  const room = dialogRoom && store.room(dialogRoom);
  if (!room) return;
  loadMembers(room).catch((e) => { $(isOpen('settings-dialog') ? 'members-action-error' : 'members-error').textContent = e.message; });
}

export async function openMembers() {
  const room = store.activeRoom;
  if (!room) return;
  dialogRoom = room.id;
  $('members-title').textContent = `Members of #${roomTitle(room, store.me)}`;
  $('members-list').replaceChildren();
  screens.openDialog('members-dialog');
  refreshOpenDialog();
}

export async function openSettings() {
  const room = store.activeRoom;
  if (!room) return;
  dialogRoom = room.id;
  fillSettings(room);
  $('settings-members').replaceChildren();
  $('bans-list').replaceChildren();
  screens.openDialog('settings-dialog');
  refreshOpenDialog();
}

export async function saveSettings() {
  const room = dialogRoom && store.room(dialogRoom);
  if (!room) return;
  const name = $('settings-name').value.trim();
  const topic = $('settings-topic').value.trim();
  const visibility = $('settings-private').checked ? 'private' : 'public';
  if (!name) { $('settings-error').textContent = 'Give the room a name.'; return; }
  const changes = {};
  if (name !== room.name) changes.name = name;
  if (topic !== room.topic) changes.topic = topic;
  if (visibility !== room.visibility) changes.visibility = visibility;
  if (!Object.keys(changes).length) { $('settings-error').textContent = ''; toast('Nothing changed.'); return; }
  try {
    store.upsertRoom(await api.updateRoom(room.id, changes));
    $('settings-error').textContent = '';
    redraw(room.id);
    fillSettings(room);
    toast('Room settings saved.');
  } catch (e) {
    $('settings-error').textContent = e.message;
  }
}

export async function invite(username) {
  const room = dialogRoom && store.room(dialogRoom);
  const name = username.trim();
  if (!room || !name) return;
  try {
    await api.invite(room.id, name);
    $('invite-name').value = '';
    $('members-action-error').textContent = '';
    toast(`${name} was added to the room.`);
    refreshOpenDialog();
  } catch (e) {
    $('members-action-error').textContent = e.status === 404 ? `There is no user called “${name}”.` : e.message;
  }
}

async function act(run, done) {
  try {
    await run();
    $('members-action-error').textContent = '';
    if (done) toast(done);
    refreshOpenDialog();
  } catch (e) {
    $('members-action-error').textContent = e.message;
  }
}

async function kick(username) {
  const room = store.room(dialogRoom);
  if (!room) return;
  const title = roomTitle(room, store.me);
  if (!await confirmAction({ title: `Kick ${username}?`, text: `${username} leaves #${title} now. They can join again unless the room is private.`, ok: 'Kick' })) return;
  await act(() => api.kick(room.id, username), `${username} was kicked.`);
}

async function ban(username) {
  const room = store.room(dialogRoom);
  if (!room) return;
  const title = roomTitle(room, store.me);
  if (!await confirmAction({ title: `Ban ${username}?`, text: `${username} leaves #${title} and cannot join or be invited again until unbanned.`, ok: 'Ban' })) return;
  await act(() => api.ban(room.id, username), `${username} was banned.`);
}

async function unban(username) {
  const room = store.room(dialogRoom);
  if (room) await act(() => api.unban(room.id, username), `${username} may join again.`);
}

async function setRole(username, role) {
  const room = store.room(dialogRoom);
  if (!room) return;
  if (role === 'owner' && !await confirmAction({
    title: `Hand the room over to ${username}?`,
    text: `${username} becomes the owner of #${roomTitle(room, store.me)}; you stay on as a moderator and cannot take it back yourself.`,
    ok: 'Hand over',
  })) {
    return;
  }

  await act(async () => {
    await api.setRole(room.id, username, role);
    if (role === 'owner') {
      store.upsertRoom({ id: room.id, role: 'moderator' });
      fillSettings(room);
      redraw(room.id);
    }
  }, role === 'owner' ? `${username} owns the room now.` : `${username} is now a ${role}.`);
}

export async function deleteActiveRoom() {
  const room = dialogRoom && store.room(dialogRoom);
  if (!room) return;
  const title = roomTitle(room, store.me);
  if (!await confirmAction({ title: `Delete #${title}?`, text: 'The room and all its messages are deleted for everyone. This cannot be undone.', ok: 'Delete room' })) return;
  try {
    await api.deleteRoom(room.id);
    gone(room.id, `#${title} was deleted.`);
  } catch (e) {
    $('members-action-error').textContent = e.message;
  }
}

function redraw(id) {
  screens.renderRooms();
  if (store.activeId === id) roomView.renderRoomHeader();
}

/** The room is no longer the user's: its dialogs close and it leaves the list. */
function gone(id, message) {
  if (!store.hasRoom(id)) return;
  if (dialogRoom === id) {
    for (const d of ['members-dialog', 'settings-dialog', 'confirm-dialog']) if (isOpen(d)) $(d).close();
    dialogRoom = null;
  }
  removeRoom(id);
  toast(message);
}

/** A `room` frame: added, updated, removed (kicked or banned) or deleted. */
export function onRoomFrame(f) {
  const room = store.room(f.id);
  const title = room ? roomTitle(room, store.me) : f.name || 'a room';
  switch (f.event) {
    case 'removed':
      gone(f.id, `You were removed from #${title}.`);
      return;
    case 'deleted':
      gone(f.id, `#${title} was deleted.`);
      return;
    default:
      store.upsertRoom(f);
      redraw(f.id);
      if (f.event === 'updated' && dialogRoom === f.id && isOpen('settings-dialog')) {
        fillSettings(store.room(f.id));
        refreshOpenDialog();
      }
  }
}

/** A `member` frame: the open member list and the header's count follow it. */
export function onMemberFrame(f) {
  if (f.username === store.me && (f.event === 'kicked' || f.event === 'banned')) {
    const room = store.room(f.room);
    gone(f.room, `You were ${f.event === 'banned' ? 'banned' : 'removed'} from #${room ? roomTitle(room, store.me) : 'a room'}.`);
    return;
  }

  if (!store.hasRoom(f.room)) return;
  if (f.event === 'role' && f.username === store.me) store.upsertRoom({ id: f.room, role: f.role });
  if (dialogRoom === f.room && (isOpen('members-dialog') || isOpen('settings-dialog'))) refreshOpenDialog();
  else if (f.event !== 'role') refreshRoomsSoon();
}
