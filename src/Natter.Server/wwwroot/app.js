// Natter browser client: wires the page's controls to the actions and starts.
//
//   state.js       the one store (read through getters, changed only by its named update functions)
//   views/         DOM drawn from the store; user text only through textContent and DOM nodes
//   actions/       what the user and the socket ask for: update the store, call the API or the socket, redraw
//   api.js, connection.js (outbox.js, pacer.js)   HTTP and the WebSocket

import { api } from './api.js';
import { browse, closeRoom, createRoom, joinRoom, leaveActiveRoom, openRoom, startDirect, submitDirect } from './actions/rooms.js';
import { composerInput, discard, flushReads, loadOlder, markRead, retry, sendText } from './actions/messages.js';
import { refreshOnline } from './actions/people.js';
import { cancelReply, copyLink, deleteMessage, editMessage, jumpTo, quotedMessage, react, startReply } from './actions/events.js';
import { wireSearch } from './actions/search.js';
import { connection, loadLimits, logout, startSession, submitAuth } from './actions/session.js';
import { addFiles, bindDrop, pasted } from './actions/files.js';
import { deleteActiveRoom, invite, openMembers, openSettings, saveSettings } from './actions/room-admin.js';
import { blockByName, changePassword, findUsers, openAccount, openAdmin, removeAvatar, renderBlockButton, saveProfile, toggleBlockActive, uploadAvatar } from './actions/account.js';
import { store } from './state.js';
import { toast } from './views/dom.js';
import { bindIntents } from './views/intents.js';
import { autosizeComposer, messageKeys, nearTop } from './views/room.js';
import { openDialog, showLogin } from './views/screens.js';
import { onHashChange } from './actions/links.js';
import { mentionBlur, mentionInput, mentionKeys } from './actions/mentions.js';
import { toggleNotifications } from './actions/notify.js';
import { bindLongPress } from './views/longpress.js';
import { onBell, renderNews } from './views/news.js';
import { updateJump } from './views/unread.js';

const $ = (id) => document.getElementById(id);

function wire() {
  bindIntents({
    openRoom,
    // A click on someone online: the dialog's error line is not there, so a failure is a toast.
    startDirect: (name) => startDirect(name).catch((e) => toast(`Could not open a conversation with ${name}: ${e.message}`)),
    retry,
    discard,
    joinRoom,
    edit: editMessage,
    remove: deleteMessage,
    react,
    copyLink,
    reply: startReply,
    cancelReply,
    jumpTo,
    quoted: quotedMessage,
    headerDrawn: renderBlockButton,
  });

  const credentials = () => [$('login-username').value, $('login-password').value];
  $('login-form').addEventListener('submit', (e) => { e.preventDefault(); submitAuth('login', ...credentials()); });
  $('register-button').addEventListener('click', () => submitAuth('register', ...credentials()));
  $('logout-button').addEventListener('click', logout);
  $('back-button').addEventListener('click', closeRoom);
  $('reconnect-button').addEventListener('click', () => connection()?.reconnectNow());
  $('new-room-button').addEventListener('click', () => openDialog('create-dialog'));
  $('welcome-create').addEventListener('click', () => openDialog('create-dialog'));
  $('browse-button').addEventListener('click', browse);
  $('welcome-browse').addEventListener('click', browse);
  $('new-dm-button').addEventListener('click', () => openDialog('dm-dialog'));
  document.querySelectorAll('dialog [data-close]').forEach((b) => b.addEventListener('click', () => b.closest('dialog').close()));

  $('create-form').addEventListener('submit', (e) => { e.preventDefault(); createRoom($('create-name').value, $('create-private').checked); });
  $('dm-form').addEventListener('submit', (e) => { e.preventDefault(); submitDirect($('dm-name').value); });
  $('leave-button').addEventListener('click', leaveActiveRoom);
  $('members-button').addEventListener('click', openMembers);
  $('settings-button').addEventListener('click', openSettings);
  $('settings-form').addEventListener('submit', (e) => { e.preventDefault(); saveSettings(); });
  $('invite-form').addEventListener('submit', (e) => { e.preventDefault(); invite($('invite-name').value); });
  $('delete-room-button').addEventListener('click', deleteActiveRoom);
  $('account-button').addEventListener('click', openAccount);
  $('admin-button').addEventListener('click', openAdmin);
  $('block-button').addEventListener('click', toggleBlockActive);
  $('profile-form').addEventListener('submit', (e) => { e.preventDefault(); saveProfile(); });
  $('avatar-upload').addEventListener('click', () => $('avatar-file').click());
  $('avatar-file').addEventListener('change', (e) => uploadAvatar(e.target.files?.[0]));
  $('avatar-remove').addEventListener('click', () => removeAvatar());
  $('password-form').addEventListener('submit', (e) => { e.preventDefault(); changePassword(); });
  $('block-form').addEventListener('submit', (e) => { e.preventDefault(); blockByName($('block-name').value); });
  $('admin-form').addEventListener('submit', (e) => { e.preventDefault(); findUsers($('admin-query').value); });

  const input = $('message-input');
  input.addEventListener('input', () => {
    autosizeComposer();
    composerInput(input.value);
    mentionInput();
  });
  input.addEventListener('click', mentionInput);
  input.addEventListener('blur', mentionBlur);
  $('composer').addEventListener('keydown', mentionKeys, true); // before Enter sends
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $('composer').requestSubmit();
    }
  });
  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    sendText(input.value);
    input.focus(); // also after a click on Send: the next message is typed here
  });
  $('messages').addEventListener('keydown', messageKeys);
  wireSearch();

  // Files: the attach button, pasting an image into the message box, dropping files onto the room.
  $('attach-button').addEventListener('click', () => $('file-input').click());
  $('file-input').addEventListener('change', (e) => { addFiles([...e.target.files]); e.target.value = ''; });
  input.addEventListener('paste', pasted);
  bindDrop($('room-pane'));

  $('messages').addEventListener('scroll', () => {
    const room = store.activeRoom;
    if (room && nearTop()) loadOlder(room);
    updateJump();
  }, { passive: true });
  bindLongPress($('messages'));
  onBell(toggleNotifications);
  window.addEventListener('hashchange', onHashChange);

  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible') {
      flushReads(); // the last read markers go before the page may be frozen
      renderNews(); // the open room's news counts in the title while hidden
      return;
    }
    markRead(store.activeRoom);
    refreshOnline();
    connection()?.reconnectNow();
  });
  window.addEventListener('pagehide', () => flushReads());
}

async function boot() {
  wire();
  const [me] = await Promise.allSettled([api.me(), loadLimits()]);
  if (me.status === 'fulfilled') {
    startSession(me.value.username);
  } else {
    const e = me.reason;
    showLogin(e.status === 401 || e.status === 404 ? '' : e.message);
  }
}

boot();
