// Natter browser client: wires the API, the socket and the page together.

import { api } from './api.js';
import { Connection } from './connection.js';
import { Room, roomTitle } from './store.js';
import * as ui from './ui.js';

const $ = (id) => document.getElementById(id);
const PAGE = 50;
const TYPING_SEND_EVERY_MS = 3000;
const TYPING_SHOW_MS = 5000;
const USERNAME_RE = /^[a-z0-9_.-]{3,32}$/;

const state = {
  me: null,
  /** @type {Map<string, Room>} */
  rooms: new Map(),
  activeId: null,
  online: new Set(),
  /** @type {Connection|null} */
  conn: null,
  lastTypingSent: 0,
  onlineTimer: 0,
  /** The room named in the address (#room/<id>) when the session started: reopened once the list is known. */
  restoreId: null,
};

const narrow = () => window.matchMedia('(max-width: 760px)').matches;
const activeRoom = () => (state.activeId ? state.rooms.get(state.activeId) ?? null : null);

// ---------------------------------------------------------------- views

function showView(view) {
  document.body.dataset.view = view;
  $('login-view').hidden = view !== 'login';
  $('chat-view').hidden = view !== 'chat';
}

function showLogin(message = '') {
  showView('login');
  $('login-error').textContent = message;
  $('login-password').value = '';
  $('login-username').focus();
}

function describeAuthError(e, action) {
  if (e.status === 429) {
    const wait = e.retryAfter ? ` Try again in ${e.retryAfter} s.` : ' Try again later.';
    return `${e.detail || 'Too many failed attempts.'}${e.detail && /try again/i.test(e.detail) ? '' : wait}`;
  }
  if (e.status === 409) return e.detail || 'That username is already taken. Pick another one.';
  if (e.status === 401) return e.detail || 'Wrong username or password.';
  if (e.status === 400) return e.detail || e.title || `Could not ${action}: check the username and password.`;
  return e.message || `Could not ${action}.`;
}

async function submitAuth(kind) {
  const errorEl = $('login-error');
  const username = $('login-username').value.trim();
  const password = $('login-password').value;
  if (!username || !password) {
    errorEl.textContent = !username ? 'Enter your username.' : 'Enter your password.';
    return;
  }
  if (kind === 'register') {
    if (!USERNAME_RE.test(username.toLowerCase())) {
      errorEl.textContent = 'Usernames are 3–32 characters: letters, digits, _ . or -';
      return;
    }
    if ([...password].length < 8) {
      errorEl.textContent = 'Passwords need at least 8 characters.';
      return;
    }
  }
  errorEl.textContent = '';
  const buttons = [$('login-button'), $('register-button')];
  buttons.forEach((b) => { b.disabled = true; });
  document.body.setAttribute('aria-busy', 'true');
  try {
    if (kind === 'register') await api.register(username, password);
    const res = await api.login(username, password);
    startSession(res?.username || username.toLowerCase());
  } catch (e) {
    errorEl.textContent = describeAuthError(e, kind === 'register' ? 'register' : 'log in');
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
    document.body.removeAttribute('aria-busy');
  }
}

// ---------------------------------------------------------------- session

function startSession(username) {
  state.me = username;
  state.rooms.clear();
  state.activeId = null;
  state.online.clear();
  const m = /^#room\/(.+)$/.exec(location.hash);
  state.restoreId = m ? decodeURIComponent(m[1]) : null;
  $('me-name').textContent = username;
  ui.setAvatar($('me-avatar'), username);
  $('login-password').value = '';
  showView('chat');
  closeRoom();

  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const conn = new Connection({
    url: `${proto}//${location.host}/ws`,
    syncState: () => {
      const rooms = {};
      for (const r of state.rooms.values()) if (r.messages.size) rooms[r.id] = r.maxSeq;
      return rooms;
    },
    checkSession: async () => {
      try { await api.me(); return true; } catch (e) { return e.status === 401 ? false : null; }
    },
    storageKey: `natter.outbox.${username}`,
  });
  state.conn = conn;
  conn.addEventListener('frame', (e) => onFrame(e.detail));
  conn.addEventListener('state', (e) => { renderConnection(e.detail.state); renderActive(); });
  conn.addEventListener('outbox', () => renderActive());
  conn.addEventListener('acked', (e) => onAcked(e.detail.pending, e.detail.ack));
  conn.addEventListener('loggedout', () => endSession('You were logged out. Log in again to continue.'));
  conn.start();

  // The welcome frame lists the rooms too; asking over HTTP as well fills the sidebar even when
  // the socket is slow to come up.
  api.rooms().then((list) => applyRooms(list, false)).catch(() => {});
  refreshOnline();
  clearInterval(state.onlineTimer);
  state.onlineTimer = setInterval(refreshOnline, 60000);
  renderRooms();
}

function endSession(message = '') {
  state.conn?.stop();
  state.conn = null;
  clearInterval(state.onlineTimer);
  state.me = null;
  state.rooms.clear();
  state.activeId = null;
  state.online.clear();
  $('room-list').replaceChildren();
  $('online-list').replaceChildren();
  $('messages').replaceChildren();
  history.replaceState(null, '', location.pathname);
  document.title = 'Natter';
  showLogin(message);
}

async function logout() {
  try { await api.logout(); } catch { /* the session may already be gone */ }
  endSession('');
}

// ---------------------------------------------------------------- rooms

function upsertRoom(r) {
  if (!r?.id) return null;
  let room = state.rooms.get(r.id);
  if (!room) {
    room = new Room(r);
    state.rooms.set(r.id, room);
  } else {
    room.update(r);
  }
  return room;
}

/** Applies a full room list (welcome or GET /api/rooms); `authoritative` drops rooms not in it. */
function applyRooms(list, authoritative) {
  if (!Array.isArray(list)) return;
  const ids = new Set();
  for (const r of list) { upsertRoom(r); ids.add(r.id); }
  if (authoritative) {
    for (const id of [...state.rooms.keys()]) if (!ids.has(id)) removeRoom(id);
  }
  renderRooms();
  if (state.restoreId && state.rooms.has(state.restoreId)) {
    const id = state.restoreId;
    state.restoreId = null;
    openRoom(id);
  } else if (state.activeId) {
    renderRoomHeader();
  }
}

let refreshTimer = 0;
function refreshRoomsSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => api.rooms().then((l) => applyRooms(l, true)).catch(() => {}), 150);
}

function removeRoom(id) {
  state.rooms.delete(id);
  state.conn?.forgetRoom(id);
  if (state.activeId === id) closeRoom();
  renderRooms();
}

function renderRooms() {
  const rooms = [...state.rooms.values()];
  ui.renderRoomList($('room-list'), rooms, { activeId: state.activeId, me: state.me, onOpen: openRoom });
  $('rooms-empty').hidden = rooms.length > 0;
  const unread = rooms.reduce((n, r) => n + (r.id === state.activeId ? 0 : r.unread), 0);
  document.title = unread ? `(${unread}) Natter` : 'Natter';
}

function openRoom(id) {
  const room = state.rooms.get(id);
  if (!room) return;
  const changed = state.activeId !== id;
  state.activeId = id;
  document.body.dataset.pane = 'room';
  history.replaceState(null, '', `#room/${encodeURIComponent(id)}`);
  $('welcome-panel').hidden = true;
  $('messages').hidden = false;
  $('composer').hidden = false;
  if (changed) {
    $('messages').replaceChildren();
    $('typing').textContent = '';
    $('message-input').placeholder = room.kind === 'direct' ? `Message ${roomTitle(room, state.me)}` : `Message #${roomTitle(room, state.me)}`;
  }
  renderRoomHeader();
  renderRooms();
  renderActive({ toBottom: true });
  markRead(room);
  if (!room.historyLoaded) loadHistory(room);
  if (!narrow()) $('message-input').focus();
}

function closeRoom() {
  state.activeId = null;
  document.body.dataset.pane = 'list';
  $('welcome-panel').hidden = false;
  $('messages').hidden = true;
  $('messages').replaceChildren();
  $('composer').hidden = true;
  $('leave-button').hidden = true;
  $('typing').textContent = '';
  $('room-title').textContent = 'Welcome';
  $('room-sub').textContent = '';
  if (state.me) history.replaceState(null, '', location.pathname);
  renderRooms();
}

function renderRoomHeader() {
  const room = activeRoom();
  if (!room) return;
  const title = roomTitle(room, state.me);
  $('room-title').textContent = room.kind === 'direct' ? title : `# ${title}`;
  if (room.kind === 'direct') {
    $('room-sub').textContent = state.online.has(title) ? 'Online now' : 'Direct message';
  } else {
    $('room-sub').textContent = 'Group room';
  }
  $('leave-button').hidden = room.kind === 'direct';
}

// ---------------------------------------------------------------- messages

function renderActive({ toBottom = false } = {}) {
  const room = activeRoom();
  if (!room) return;
  const log = $('messages');
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 120;
  const pending = state.conn ? state.conn.pending.filter((p) => p.room === room.id) : [];
  ui.renderMessages(log, {
    room,
    me: state.me,
    pending,
    online: state.conn?.state === 'online',
    onRetry: (cid) => state.conn?.retry(cid),
    onDiscard: (cid) => state.conn?.discard(cid),
  });
  if (toBottom || nearBottom) log.scrollTop = log.scrollHeight;
}

async function loadHistory(room) {
  if (room.historyLoaded || room.loadingOlder) return;
  room.loadingOlder = true;
  try {
    const msgs = await api.messages(room.id, { limit: PAGE });
    for (const m of msgs) room.add(m);
    room.historyLoaded = true;
    if (msgs.length < PAGE) room.hasOlder = false;
  } catch (e) {
    if (e.status === 403 || e.status === 404) { removeRoom(room.id); ui.toast('You are no longer in that room.'); return; }
    ui.toast(`Could not load messages: ${e.message}`);
  } finally {
    room.loadingOlder = false;
  }
  if (state.activeId !== room.id) return;
  renderActive({ toBottom: true });
  renderRooms();
  markRead(room);
  fillViewport(room);
}

/** Loads older pages while the log does not overflow, so there is always something to scroll. */
function fillViewport(room) {
  const log = $('messages');
  if (room.hasOlder && log.scrollHeight <= log.clientHeight + 40) loadOlder(room);
}

async function loadOlder(room) {
  if (!room.historyLoaded || room.loadingOlder || !room.hasOlder) return;
  room.loadingOlder = true;
  renderActive();
  const log = $('messages');
  try {
    const before = Number.isFinite(room.minSeq) ? room.minSeq : room.lastSeq + 1;
    const msgs = await api.messages(room.id, { before, limit: PAGE });
    const fromBottom = log.scrollHeight - log.scrollTop;
    for (const m of msgs) room.add(m);
    if (msgs.length < PAGE) room.hasOlder = false;
    room.loadingOlder = false;
    if (state.activeId !== room.id) return;
    renderActive();
    // Keep the message the reader was looking at in place while older ones appear above it.
    log.scrollTop = log.scrollHeight - fromBottom;
  } catch (e) {
    room.loadingOlder = false;
    ui.toast(`Could not load earlier messages: ${e.message}`);
    renderActive();
    return;
  }
  fillViewport(room);
}

/** Fetches messages after `after` over HTTP when a live message shows a gap. */
async function fillGap(room, after) {
  try {
    for (;;) {
      const msgs = await api.messages(room.id, { after, limit: 200 });
      for (const m of msgs) room.add(m);
      if (msgs.length < 200) break;
      after = msgs.at(-1).seq;
    }
  } catch { return; }
  if (state.activeId === room.id) renderActive();
  renderRooms();
}

function markRead(room) {
  if (!room || state.activeId !== room.id || document.visibilityState !== 'visible') return;
  const seq = Math.max(room.maxSeq, 0);
  if (seq > 0 && seq > (room.readSent ?? 0) && state.conn?.send({ type: 'read', room: room.id, seq })) {
    room.readSent = seq;
  }
  if (seq > room.readSeq) room.readSeq = seq;
  renderRooms();
}

function onMessage(m) {
  let room = state.rooms.get(m.room);
  if (!room) {
    room = upsertRoom({ id: m.room, name: '', kind: 'group' });
    refreshRoomsSoon();
  }
  if (room.historyLoaded && room.maxSeq > 0 && m.seq > room.maxSeq + 1) fillGap(room, room.maxSeq);
  if (!room.add(m)) return;
  if (m.from === state.me && m.client_id) state.conn?.confirm(m.client_id);
  if (m.from === state.me && m.seq > room.readSeq && room.id !== state.activeId) room.readSeq = m.seq;
  room.typing.delete(m.from);
  if (room.id === state.activeId) {
    renderActive({ toBottom: m.from === state.me });
    renderTyping();
    markRead(room);
  }
  renderRooms();
}

function onAcked(p, ack) {
  const room = state.rooms.get(ack.room ?? p.room);
  if (!room) return;
  room.add({ room: room.id, seq: ack.seq, from: state.me, text: p.text, ts: ack.ts, client_id: p.client_id });
  if (room.id === state.activeId) {
    renderActive({ toBottom: true });
    markRead(room);
  }
  renderRooms();
}

function renderTyping() {
  const room = activeRoom();
  const names = room ? room.typists() : [];
  const el = $('typing');
  el.textContent = names.length === 0 ? ''
    : names.length === 1 ? `${names[0]} is typing…`
      : names.length === 2 ? `${names[0]} and ${names[1]} are typing…`
        : 'Several people are typing…';
}

function onFrame(f) {
  switch (f.type) {
    case 'welcome':
      applyRooms(f.rooms, true);
      refreshOnline();
      for (const r of state.rooms.values()) r.readSent = Math.max(r.readSent ?? 0, r.readSeq);
      if (activeRoom() && !activeRoom().historyLoaded) loadHistory(activeRoom());
      break;
    case 'message':
      onMessage(f);
      break;
    case 'synced':
      renderActive();
      markRead(activeRoom());
      break;
    case 'room':
      upsertRoom(f);
      renderRooms();
      refreshRoomsSoon();
      refreshOnline();
      break;
    case 'member':
      if (f.username === state.me) {
        if (f.event === 'left') removeRoom(f.room);
        else refreshRoomsSoon();
      } else if (f.event === 'joined') {
        // Presence frames only cover people who already shared a room; a newcomer may be online already.
        refreshOnline();
      }
      break;
    case 'presence':
      if (f.username && f.username !== state.me) {
        if (f.online) state.online.add(f.username); else state.online.delete(f.username);
        renderOnline();
      }
      break;
    case 'typing': {
      const room = state.rooms.get(f.room);
      if (!room || f.username === state.me) break;
      room.typing.set(f.username, Date.now() + TYPING_SHOW_MS);
      if (room.id === state.activeId) {
        renderTyping();
        setTimeout(renderTyping, TYPING_SHOW_MS + 100);
      }
      break;
    }
    case 'read': {
      const room = state.rooms.get(f.room);
      if (!room) break;
      if (f.username === state.me) {
        room.update({ read_seq: f.seq });
        renderRooms();
      } else {
        room.readers.set(f.username, Math.max(room.readers.get(f.username) ?? 0, f.seq));
        if (room.id === state.activeId) renderActive();
      }
      break;
    }
    case 'error':
      // Errors for sends are shown on the message itself.
      if (!(typeof f.ref === 'string' && f.ref.startsWith('s'))) ui.toast(f.message || `Error: ${f.code}`);
      break;
    default:
      break;
  }
}

// ---------------------------------------------------------------- people and connection state

async function refreshOnline() {
  try {
    const list = await api.onlineUsers();
    state.online = new Set(list.filter((u) => u.online !== false && u.username !== state.me).map((u) => u.username));
    renderOnline();
  } catch { /* keep the last known list */ }
}

function renderOnline() {
  ui.renderOnline($('online-list'), state.online, { onMessage: (name) => startDirect(name) });
  $('online-empty').hidden = state.online.size > 0;
  if (activeRoom()?.kind === 'direct') renderRoomHeader();
}

let countdown = 0;
function renderConnection(s) {
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
      const secs = Math.max(0, Math.ceil(((state.conn?.retryAt ?? 0) - Date.now()) / 1000));
      $('offline-text').textContent = secs > 0
        ? `You are offline. Reconnecting in ${secs} s… Messages you send now are kept and sent when you are back.`
        : 'You are offline. Reconnecting…';
    };
    tick();
    countdown = setInterval(tick, 1000);
  }
}

// ---------------------------------------------------------------- dialogs

function openDialog(id) {
  const d = $(id);
  d.querySelectorAll('.form-error').forEach((e) => { e.textContent = ''; });
  d.showModal();
  return d;
}

async function startDirect(username) {
  const name = username.trim().toLowerCase();
  const room = upsertRoom(await api.direct(name));
  refreshRoomsSoon();
  if (room) openRoom(room.id);
}

async function browse() {
  const d = openDialog('browse-dialog');
  const ul = $('public-list');
  ul.replaceChildren();
  $('public-empty').hidden = true;
  try {
    const list = await api.publicRooms();
    ui.renderPublicRooms(ul, list, {
      isMember: (id) => state.rooms.has(id),
      onJoin: async (r) => {
        try {
          if (!state.rooms.has(r.id)) upsertRoom(await api.joinRoom(r.id) ?? { id: r.id, name: r.name, kind: 'group' });
          d.close();
          refreshRoomsSoon();
          openRoom(r.id);
        } catch (e) {
          $('browse-error').textContent = e.message;
        }
      },
    });
    $('public-empty').hidden = list.length > 0;
  } catch (e) {
    $('browse-error').textContent = e.message;
  }
}

// ---------------------------------------------------------------- wiring

function wire() {
  $('login-form').addEventListener('submit', (e) => { e.preventDefault(); submitAuth('login'); });
  $('register-button').addEventListener('click', () => submitAuth('register'));
  $('logout-button').addEventListener('click', logout);
  $('back-button').addEventListener('click', closeRoom);
  $('reconnect-button').addEventListener('click', () => state.conn?.reconnectNow());
  $('new-room-button').addEventListener('click', () => openDialog('create-dialog'));
  $('welcome-create').addEventListener('click', () => openDialog('create-dialog'));
  $('browse-button').addEventListener('click', browse);
  $('welcome-browse').addEventListener('click', browse);
  $('new-dm-button').addEventListener('click', () => openDialog('dm-dialog'));
  document.querySelectorAll('dialog [data-close]').forEach((b) => b.addEventListener('click', () => b.closest('dialog').close()));

  $('create-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = $('create-name').value.trim();
    if (!name) { $('create-error').textContent = 'Give the room a name.'; return; }
    try {
      const room = upsertRoom(await api.createRoom(name));
      $('create-dialog').close();
      $('create-name').value = '';
      refreshRoomsSoon();
      if (room) openRoom(room.id);
    } catch (err) {
      $('create-error').textContent = err.message;
    }
  });

  $('dm-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = $('dm-name').value.trim();
    if (!name) { $('dm-error').textContent = 'Enter a username.'; return; }
    try {
      await startDirect(name);
      $('dm-dialog').close();
      $('dm-name').value = '';
    } catch (err) {
      $('dm-error').textContent = err.status === 404 ? `There is no user called “${name}”.` : err.message;
    }
  });

  $('leave-button').addEventListener('click', async () => {
    const room = activeRoom();
    if (!room) return;
    try {
      await api.leaveRoom(room.id);
      removeRoom(room.id);
      ui.toast(`You left ${roomTitle(room, state.me)}.`);
    } catch (e) {
      ui.toast(`Could not leave: ${e.message}`);
    }
  });

  const input = $('message-input');
  const autosize = () => {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 180)}px`;
  };
  input.addEventListener('input', () => {
    autosize();
    const room = activeRoom();
    const now = Date.now();
    if (room && input.value.trim() && now - state.lastTypingSent > TYPING_SEND_EVERY_MS) {
      if (state.conn?.send({ type: 'typing', room: room.id })) state.lastTypingSent = now;
    }
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $('composer').requestSubmit();
    }
  });
  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    const room = activeRoom();
    const text = input.value.trim();
    if (!room || !text || !state.conn) return;
    if ([...text].length > 4000) { ui.toast('Messages can be at most 4000 characters.'); return; }
    state.conn.sendMessage(room.id, text);
    state.lastTypingSent = 0;
    input.value = '';
    autosize();
    renderActive({ toBottom: true });
  });

  $('messages').addEventListener('scroll', () => {
    const room = activeRoom();
    if (room && $('messages').scrollTop < 150) loadOlder(room);
  }, { passive: true });

  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible') return;
    markRead(activeRoom());
    state.conn?.reconnectNow();
  });
}

async function boot() {
  wire();
  try {
    const me = await api.me();
    startSession(me.username);
  } catch (e) {
    showLogin(e.status === 401 || e.status === 404 ? '' : e.message);
  }
}

boot();
