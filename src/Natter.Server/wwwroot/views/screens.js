// The page around the open room, drawn from the store: the login and chat screens, the sidebar's lists,
// the connection pill and banner, and the dialogs.

import { store } from '../state.js';
import { inDuration, setAvatar } from './dom.js';
import { intents } from './intents.js';
import { renderOnlineList, renderPublicRooms, renderRoomList } from './lists.js';
import { focusHeading, renderRoomHeader } from './room.js';
import { renderNews } from './news.js';

const $ = (id) => document.getElementById(id);

export function showView(view) {
  document.body.dataset.view = view;
  $('login-view').hidden = view !== 'login';
  $('chat-view').hidden = view !== 'chat';
}

export function showLogin(message = '') {
  showView('login');
  $('login-error').textContent = message;
  $('login-password').value = '';
  $('login-username').focus();
}

export function setLoginError(text) { $('login-error').textContent = text; }

/** Disables both login buttons while a login or registration is under way. */
export function setAuthBusy(busy) {
  for (const b of [$('login-button'), $('register-button')]) b.disabled = busy;
  if (busy) document.body.setAttribute('aria-busy', 'true'); else document.body.removeAttribute('aria-busy');
}

/** The server's limits on the form fields and in the hints under them. */
export function showLimits() {
  const l = store.limits;
  if (!l) return;
  $('login-username').maxLength = l.username_max;
  $('login-username-hint').textContent = `${l.username_min}–${l.username_max} characters: letters, digits, _ . -`;
  $('login-password').maxLength = l.password_max;
  $('login-password-hint').textContent = `At least ${l.password_min} characters.`;
  $('message-input').maxLength = l.max_text;
  $('create-name').maxLength = l.room_name_max;
  $('dm-name').maxLength = l.username_max;
}

/** The chat screen for the signed-in user (store.me). */
export function showChat() {
  $('me-name').textContent = store.me;
  setAvatar($('me-avatar'), store.me);
  $('login-password').value = '';
  showView('chat');
}

/** Empties everything the last session drew. */
export function clearChat() {
  $('room-list').replaceChildren();
  $('online-list').replaceChildren();
  $('messages').replaceChildren();
  history.replaceState(null, '', location.pathname);
  document.title = 'Natter';
}

export function renderRooms() {
  const rooms = store.rooms;
  renderRoomList($('room-list'), rooms, { activeId: store.activeId, me: store.me, onOpen: intents.openRoom });
  $('rooms-empty').hidden = rooms.length > 0;
  renderNews();
}

/** A room was closed: focus goes back to its entry in the list, or (when it was left) to what is there instead. */
export function focusAfterClose(id) {
  const item = [...$('room-list').children].find((li) => li.dataset.key === id)?.querySelector('button');
  if (item) item.focus(); else focusHeading();
}

export function renderOnline() {
  const online = store.online;
  renderOnlineList($('online-list'), online, { onMessage: intents.startDirect });
  $('online-empty').hidden = online.length > 0;
  if (store.activeRoom?.kind === 'direct') renderRoomHeader();
}

let countdown = 0;
export function renderConnection() {
  const s = store.connection;
  document.body.dataset.connection = s;
  const pill = $('conn-pill');
  const banner = $('offline-banner');
  clearInterval(countdown);
  const labels = { online: 'Connected', connecting: 'Connecting…', offline: 'Offline', loggedout: 'Logged out', idle: '' };
  pill.textContent = labels[s] ?? s;
  pill.dataset.state = s;
  banner.hidden = s !== 'offline';
  if (s === 'offline') {
    const tick = () => {
      const secs = Math.max(0, Math.ceil((store.retryAt - Date.now()) / 1000));
      $('offline-text').textContent = secs > 0
        ? `You are offline. Reconnecting ${inDuration(secs)}… Messages you send now are kept and sent when you are back.`
        : 'You are offline. Reconnecting…';
    };
    tick();
    countdown = setInterval(tick, 1000);
  }
}

// ---------------------------------------------------------------- dialogs

export function openDialog(id) {
  const d = $(id);
  d.querySelectorAll('.form-error').forEach((e) => { e.textContent = ''; });
  d.showModal();
}

/** Closes a dialog and empties its fields. */
export function closeDialog(id) {
  const d = $(id);
  d.close();
  d.querySelectorAll('input').forEach((i) => { i.value = ''; });
}

export function setFormError(id, text) { $(id).textContent = text; }

/** The browse dialog's list; `list` null while it loads. */
export function showPublicRooms(list) {
  const ul = $('public-list');
  if (!list) {
    ul.replaceChildren();
    $('public-empty').hidden = true;
    return;
  }
  renderPublicRooms(ul, list, { isMember: (id) => store.hasRoom(id), onJoin: intents.joinRoom });
  $('public-empty').hidden = list.length > 0;
}
