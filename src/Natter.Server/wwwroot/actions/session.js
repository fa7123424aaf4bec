// Session actions: the server's limits, log in / register, the socket's life, log out.

import { api } from '../api.js';
import { Connection } from '../connection.js';
import { store } from '../state.js';
import { inDuration } from '../views/dom.js';
import { focusHeading, renderActive, roomInAddress } from '../views/room.js';
import * as screens from '../views/screens.js';
import { onAcked, onFrame } from './frames.js';
import { readRefused, resetReads } from './messages.js';
import { startOnline, stopOnline } from './people.js';
import { applyRooms, closeRoom } from './rooms.js';
import { rememberLink } from './links.js';

/** @type {Connection|null} */
let conn = null;

/** The socket of the current session (null when signed out). */
export const connection = () => conn;

const COUNTS = ['max_text', 'sends_per_second', 'send_burst', 'events_per_second', 'username_min', 'username_max',
  'password_min', 'password_max', 'room_name_max'];

/** Reads GET /api/config once it answers; until then the server alone checks what the user types. */
export async function loadLimits() {
  if (store.limits) return;
  try {
    const c = await api.config();
    if (!COUNTS.every((k) => Number.isInteger(c?.[k]) && c[k] > 0) || typeof c.username_pattern !== 'string') return;
    store.setLimits(c);
    screens.showLimits();
  } catch { /* asked again before the next registration and at the next session start */ }
}

function describeAuthError(e, action) {
  if (e.status === 429) {
    // The server's sentence may end with the wait in seconds; the wait is said here in words instead.
    const reason = (e.detail || 'Too many failed attempts').replace(/[\s;,.]*try again\b.*$/is, '').replace(/\.$/, '');
    return `${reason}. Try again ${e.retryAfter ? inDuration(e.retryAfter) : 'later'}.`;
  }
  if (e.status === 409) return e.detail || 'That username is already taken. Pick another one.';
  if (e.status === 401) return e.detail || 'Wrong username or password.';
  if (e.status === 400) return e.detail || e.title || `Could not ${action}: check the username and password.`;
  return e.message || `Could not ${action}.`;
}

/** What is wrong with a new account's name or password by the server's rules; '' when nothing is. */
function checkNewAccount(username, password) {
  const l = store.limits;
  if (!l) return '';
  let pattern = null;
  try { pattern = new RegExp(l.username_pattern); } catch { /* the server still checks */ }
  if (pattern && !pattern.test(username.toLowerCase())) {
    return `Usernames are ${l.username_min}–${l.username_max} characters: letters, digits, _ . or -`;
  }
  if ([...password].length < l.password_min) return `Passwords need at least ${l.password_min} characters.`;
  return '';
}

/** kind: 'login' or 'register' (which logs in after registering). */
export async function submitAuth(kind, username, password) {
  username = username.trim();
  if (!username || !password) {
    screens.setLoginError(!username ? 'Enter your username.' : 'Enter your password.');
    return;
  }
  if (kind === 'register') {
    await loadLimits();
    const problem = checkNewAccount(username, password);
    if (problem) {
      screens.setLoginError(problem);
      return;
    }
  }
  screens.setLoginError('');
  screens.setAuthBusy(true);
  try {
    if (kind === 'register') await api.register(username, password);
    const res = await api.login(username, password);
    startSession(res?.username || username.toLowerCase());
  } catch (e) {
    screens.setLoginError(describeAuthError(e, kind === 'register' ? 'register' : 'log in'));
  } finally {
    screens.setAuthBusy(false);
  }
}

export function startSession(username) {
  rememberLink();
  store.startSession(username, roomInAddress());
  resetReads();
  screens.showChat();
  closeRoom();
  focusHeading(); // "Welcome" (or, once the room in the address reopens, its message box)

  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const c = new Connection({
    url: `${proto}//${location.host}/ws`,
    syncState: () => {
      const rooms = {};
      for (const r of store.rooms) if (r.size) rooms[r.id] = r.maxSeq;
      return rooms;
    },
    checkSession: async () => {
      try { await api.me(); return true; } catch (e) { return e.status === 401 ? false : null; }
    },
    storageKey: `natter.outbox.${username}`,
    limits: () => store.limits,
  });
  conn = c;
  store.setPending(c.pending);
  c.addEventListener('frame', (e) => onFrame(e.detail));
  c.addEventListener('state', (e) => {
    store.setConnection(e.detail.state, e.detail.retryAt);
    screens.renderConnection();
    renderActive();
  });
  c.addEventListener('outbox', () => {
    store.setPending(c.pending);
    renderActive();
  });
  c.addEventListener('acked', (e) => onAcked(e.detail.pending, e.detail.ack));
  c.addEventListener('eventrefused', (e) => readRefused(e.detail.frame));
  c.addEventListener('loggedout', () => endSession('You were logged out. Log in again to continue.'));
  c.start();

  loadLimits(); // in case GET /api/config failed at start: the pacing and the composer use them once known
  // The welcome frame lists the rooms too; asking over HTTP as well fills the sidebar even when
  // the socket is slow to come up.
  api.rooms().then((list) => applyRooms(list, false)).catch(() => {});
  startOnline();
  screens.renderRooms();
}

export function endSession(message = '') {
  conn?.stop();
  conn = null;
  stopOnline();
  resetReads();
  store.endSession();
  screens.clearChat();
  screens.showLogin(message);
}

export async function logout() {
  try { await api.logout(); } catch { /* the session may already be gone */ }
  endSession('');
}
