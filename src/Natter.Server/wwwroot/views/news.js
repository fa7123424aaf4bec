// The news the user is not looking at, drawn: the page title "(N) Natter", the back arrow's badge on a phone,
// and the notifications bell in the sidebar (what a click on it does is actions/notify.js's).

import { store } from '../state.js';
import { h } from './dom.js';

const $ = (id) => document.getElementById(id);
let intentBell = () => {};

/** The browser has notifications. */
export const notificationsSupported = () => typeof window.Notification === 'function';
const supported = notificationsSupported;
const prefKey = () => `natter.notify.${store.me}`;

/** The user's choice in this browser: on unless switched off (kept per user in localStorage). */
export function notificationsWanted() {
  try { return localStorage.getItem(prefKey()) !== 'off'; } catch { return true; }
}

export function setNotificationsWanted(on) {
  try { localStorage.setItem(prefKey(), on ? 'on' : 'off'); } catch { /* kept for this page only */ }
}

/** Notifications go out: supported, allowed by the browser, and not switched off. */
export const notificationsOn = () => supported() && Notification.permission === 'granted' && notificationsWanted();

/** What a click on the bell does (bound at start). */
export function onBell(fn) { intentBell = fn; }

/** The bell in the sidebar's header: its state in its name, pressed when notifications are on. */
export function renderBell() {
  const on = notificationsOn();
  let bell = $('notify-button');
  if (!bell) {
    bell = h('button', { className: 'btn icon bell', attrs: { type: 'button', id: 'notify-button' }, on: { click: () => intentBell() } });
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', '18');
    svg.setAttribute('height', '18');
    svg.setAttribute('aria-hidden', 'true');
    const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    path.setAttribute('d', 'M6 16V11a6 6 0 1 1 12 0v5l1.5 2h-15zM10 20a2 2 0 0 0 4 0');
    path.setAttribute('fill', 'none');
    path.setAttribute('stroke', 'currentColor');
    path.setAttribute('stroke-width', '2');
    path.setAttribute('stroke-linejoin', 'round');
    const slash = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    slash.setAttribute('class', 'bell-off');
    slash.setAttribute('d', 'M4 4l16 16');
    slash.setAttribute('stroke', 'currentColor');
    slash.setAttribute('stroke-width', '2');
    slash.setAttribute('stroke-linecap', 'round');
    svg.append(path, slash);
    bell.append(svg);
    $('conn-pill').before(bell);
  }
  bell.hidden = !supported();
  bell.setAttribute('aria-pressed', String(on));
  bell.setAttribute('aria-label', 'Notifications');
  bell.title = on ? 'Notifications are on for direct messages and mentions. Click to turn them off.'
    : supported() && Notification.permission === 'denied' ? 'Notifications are blocked in this browser\'s site settings.'
      : 'Turn on notifications for direct messages and mentions';
  bell.classList.toggle('on', on);
}

/** The page title and, on a phone, the back arrow's badge. */
export function renderNews() {
  const hidden = document.visibilityState === 'hidden';
  const rooms = store.rooms;
  const unread = rooms.reduce((n, r) => n + (r.id === store.activeId && !hidden ? 0 : r.unread), 0);
  const title = unread ? `(${unread > 999 ? '999+' : unread}) Natter` : 'Natter';
  if (document.title !== title) document.title = title;
  renderBell();

  const back = $('back-button');
  if (!back) return;
  const others = rooms.filter((r) => r.id !== store.activeId && r.unread > 0);
  const mentions = others.some((r) => r.mentionCount > 0);
  let badge = back.querySelector('.back-badge');
  if (!badge) {
    badge = h('span', { className: 'back-badge', attrs: { 'aria-hidden': 'true' } });
    back.append(badge);
  }
  badge.hidden = others.length === 0;
  badge.textContent = others.length > 9 ? '9+' : String(others.length);
  badge.classList.toggle('mention', mentions);
  back.setAttribute('aria-label', others.length
    ? `Back to rooms, ${others.length} ${others.length === 1 ? 'room has' : 'rooms have'} new messages`
    : 'Back to rooms');
}
