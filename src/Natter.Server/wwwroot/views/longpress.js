// Touch: holding a finger on a message for half a second opens its menu (as the "⋯" button does), the way
// chat apps on phones do. Moving the finger (scrolling), lifting it early, or a second finger cancels.
// Links, chips, quotes and buttons inside a message keep their own taps.

import { store } from '../state.js';
import { h } from './dom.js';
import { openMenu } from './message-parts.js';

const HOLD_MS = 500;
const SLOP_PX = 10;

export function bindLongPress(log) {
  let timer = 0;
  let start = null;
  let fired = false;
  const cancel = () => { clearTimeout(timer); timer = 0; start = null; };

  log.addEventListener('touchstart', (e) => {
    cancel();
    fired = false;
    if (e.touches.length !== 1) return;
    const msg = e.target.closest?.('.msg[data-seq]');
    if (!msg || msg.classList.contains('deleted') || e.target.closest('a, button, textarea, input, .quote')) return;
    const t = e.touches[0];
    start = { x: t.clientX, y: t.clientY };
    timer = setTimeout(() => {
      timer = 0;
      const more = msg.querySelector('.more');
      if (!msg.isConnected || !more || !msg.msg) return;
      fired = true;
      navigator.vibrate?.(10);
      openMenu(more, msg.msg, store.me);
      // On a phone the menu is a sheet over the message: it names the message it acts on.
      const menu = more.nextElementSibling;
      if (menu?.classList.contains('msg-menu') && window.matchMedia('(pointer: coarse) and (max-width: 760px)').matches) {
        const m = msg.msg;
        const text = m.text.length > 80 ? `${m.text.slice(0, 79)}…` : m.text;
        menu.prepend(h('p', { className: 'menu-caption', text: `${m.from === store.me ? 'You' : m.from}: ${text}`, attrs: { 'aria-hidden': 'true', dir: 'auto' } }));
      }
    }, HOLD_MS);
  }, { passive: true });

  log.addEventListener('touchmove', (e) => {
    if (!start) return;
    const t = e.touches[0];
    if (Math.abs(t.clientX - start.x) > SLOP_PX || Math.abs(t.clientY - start.y) > SLOP_PX) cancel();
  }, { passive: true });

  // A press that opened the menu is not also a click (which would close it again) or a text selection.
  log.addEventListener('touchend', (e) => {
    cancel();
    if (fired && e.cancelable) e.preventDefault();
  });
  log.addEventListener('touchcancel', cancel);
  log.addEventListener('scroll', cancel, { passive: true });
  log.addEventListener('contextmenu', (e) => {
    if (fired || timer) e.preventDefault();
  });
}
