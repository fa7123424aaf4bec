// Who is online: everyone with a socket open anywhere (GET /api/users?online=true), kept current by
// presence frames for people who share a room with this user (they come at once) and by asking the
// server again every few seconds while the page is visible (for everyone else, whom no frame covers),
// at once when the socket (re)connects and when the page becomes visible again.

import { api } from '../api.js';
import { store } from '../state.js';
import * as screens from '../views/screens.js';
import { learnProfiles } from './account.js';

const REFRESH_EVERY_MS = 10000;
/** Presence frames are remembered this long, so an answer that was on its way cannot undo a newer one. */
const PRESENCE_KEPT_MS = 30000;

let timer = 0;
/** [{at, username, online}] presence frames of the last few seconds, oldest first */
let recent = [];

/** The session started: ask now, then every few seconds while the page is visible. */
export function startOnline() {
  stopOnline();
  refreshOnline();
  timer = setInterval(() => {
    if (document.visibilityState === 'visible' && store.connection === 'online') refreshOnline();
  }, REFRESH_EVERY_MS);
}

export function stopOnline() {
  clearInterval(timer);
  timer = 0;
  recent = [];
}

/** A presence frame: someone sharing a room came online or went away. */
export function applyPresence(username, online) {
  if (!username || username === store.me) return;
  const now = performance.now();
  recent = recent.filter((p) => now - p.at < PRESENCE_KEPT_MS);
  recent.push({ at: now, username, online: !!online });
  store.setPresence(username, !!online);
  screens.renderOnline();
}

export async function refreshOnline() {
  if (!store.me) return;
  const asked = performance.now();
  let list;
  try {
    list = await api.onlineUsers();
  } catch {
    return; // keep the last known list
  }
  if (!store.me || !Array.isArray(list)) return;
  learnProfiles(list);
  const me = store.me;
  store.setOnline(list.filter((u) => u.online !== false && u.username !== me).map((u) => u.username));
  // Frames that arrived while the answer was on its way are newer than it.
  for (const p of recent) if (p.at >= asked) store.setPresence(p.username, p.online);
  screens.renderOnline();
}
