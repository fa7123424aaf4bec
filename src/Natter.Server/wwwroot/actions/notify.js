// System notifications; the title count and the back arrow's badge are drawn by views/news.js.
// Telling the user about news they are not looking at:
//  - a system notification (the browser's Notification API) for a direct message or a mention that arrives
//    live while the page is hidden; switched on with the bell in the sidebar (which asks the browser's
//    permission: a user action), switched off there too, the choice kept per user in localStorage;
//  - the page title "(N) Natter": unread messages in rooms not being read (the open room counts too while
//    the page is hidden);
//  - on a phone, inside a room, a badge on the back arrow: how many other rooms have news (amber when one
//    of them mentions the user).

import { roomTitle, store } from '../state.js';
import { toast } from '../views/dom.js';
import { notificationsOn as active, notificationsSupported as supported, renderBell, setNotificationsWanted as remember } from '../views/news.js';
import { showMessage } from './links.js';

const BODY_MAX = 140;

/** A click on the bell: asks the browser the first time, then switches between on and off. */
export async function toggleNotifications() {
  if (!supported()) return;
  if (active()) {
    remember(false);
    toast('Notifications off.');
  } else if (Notification.permission === 'denied') {
    toast('Notifications are blocked for this site in the browser\'s settings.');
  } else {
    const answer = Notification.permission === 'granted' ? 'granted' : await Notification.requestPermission();
    if (answer === 'granted') {
      remember(true);
      toast('Notifications on for direct messages and mentions.');
    } else {
      toast('The browser did not allow notifications.');
    }
  }
  renderBell();
}

/** A live message was added to `room`: a notification when it is for the user and the page is hidden. */
export function notifyMessage(room, m, live) {
  const me = store.me;
  if (!live || !m || m.from === me || document.visibilityState !== 'hidden' || !active()) return;
  const mentioned = Array.isArray(m.mentions) && m.mentions.includes(me);
  if (room.kind !== 'direct' && !mentioned) return;
  const title = room.kind === 'direct' ? m.from : `${m.from} in #${roomTitle(room, me)}`;
  const text = String(m.text ?? '');
  try {
    const n = new Notification(title, {
      body: text.length > BODY_MAX ? `${text.slice(0, BODY_MAX - 1)}…` : text,
      tag: `${room.id}/${m.seq}`,
      icon: 'favicon.svg',
    });
    n.addEventListener('click', () => {
      window.focus();
      n.close();
      if (store.hasRoom(room.id)) showMessage(room.id, m.seq);
    });
  } catch { /* some browsers only allow notifications from a service worker */ }
}

