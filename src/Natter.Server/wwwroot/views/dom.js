// DOM building blocks. Every piece of user data (names, message text, room names) goes into the page
// through textContent or attribute setters, never parsed as HTML, so markup in a message is shown as text.

/** Creates an element: h('div', {className, text, attrs: {...}, on: {click}}, ...children). */
export function h(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  const { className, text, attrs, on, dataset } = props;
  if (className) e.className = className;
  if (text != null) e.textContent = String(text);
  if (attrs) for (const [k, v] of Object.entries(attrs)) if (v != null && v !== false) e.setAttribute(k, v === true ? '' : String(v));
  if (dataset) Object.assign(e.dataset, dataset);
  if (on) for (const [k, fn] of Object.entries(on)) e.addEventListener(k, fn);
  for (const c of children) if (c != null && c !== false) e.append(c);
  return e;
}

/**
 * Keyed update of a container's children: entries [{key, render(existing|null) -> Element}].
 * Existing nodes are reused and only moved when out of place, so focus, scroll position and the
 * live region's "additions" stay meaningful.
 */
export function reconcile(container, entries) {
  const old = new Map();
  for (const child of container.children) if (child.dataset.key) old.set(child.dataset.key, child);
  let i = 0;
  for (const { key, render } of entries) {
    const prev = old.get(key) ?? null;
    old.delete(key);
    const node = render(prev);
    node.dataset.key = key;
    const at = container.children[i];
    if (at !== node) container.insertBefore(node, at ?? null);
    i++;
  }
  for (const stale of old.values()) stale.remove();
}

function hue(name) {
  let x = 0;
  for (const ch of String(name)) x = (x * 31 + ch.codePointAt(0)) >>> 0;
  return x % 360;
}

export function avatar(username, className = 'avatar') {
  const a = h('span', { className, text: String(username || '?').replace(/[^\p{L}\p{N}]/gu, '').slice(0, 2).toUpperCase() || '?', attrs: { 'aria-hidden': 'true' } });
  a.style.setProperty('--hue', String(hue(username)));
  return a;
}

export function setAvatar(node, username) {
  node.textContent = String(username || '?').slice(0, 2).toUpperCase();
  node.style.setProperty('--hue', String(hue(username)));
}

const timeFmt = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' });
const dayYearFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });

export const formatTime = (ts) => timeFmt.format(new Date(ts));
export const formatFull = (ts) => fullFmt.format(new Date(ts));

export function dayKey(ts) {
  const d = new Date(ts);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

export function dayLabel(ts, now = new Date()) {
  const d = new Date(ts);
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const that = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  const days = Math.round((today - that) / 86400000);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  return d.getFullYear() === now.getFullYear() ? dayFmt.format(d) : dayYearFmt.format(d);
}

// The page's sentences are English, so the wait is said in English too.
const relative = new Intl.RelativeTimeFormat('en', { numeric: 'always' });

/** A wait in words: "in 40 seconds", "in 5 minutes" (297 s), "in 2 hours". */
export function inDuration(seconds) {
  const s = Math.max(1, Math.round(seconds));
  if (s < 60) return relative.format(s, 'second');
  const minutes = Math.round(s / 60);
  if (minutes < 60) return relative.format(minutes, 'minute');
  return relative.format(Math.round(s / 3600), 'hour');
}

let toastTimer = 0;
/** A short message at the bottom of the screen, also read by screen readers. */
export function toast(text) {
  const t = document.getElementById('toast');
  t.textContent = text;
  t.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.remove('show'), 4000);
}
