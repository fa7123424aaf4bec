// The parts of a stored message that its events change: the text (edited or deleted), the reaction chips,
// and the "More actions" menu (edit, delete, react, copy link). Views name intents; app.js binds them.

import { formatFull, h } from './dom.js';
import { intents } from './intents.js';
import { renderFiles } from './files.js';
import { setFormatted } from './format.js';

export const COMMON_EMOJI = [
  ['👍', 'thumbsup +1'], ['❤️', 'heart love'], ['😂', 'joy laugh'], ['🎉', 'tada party'], ['😮', 'open_mouth wow'],
  ['😢', 'cry sad'], ['🙏', 'pray thanks'], ['👀', 'eyes look'], ['✅', 'check done'], ['🔥', 'fire'],
  ['👎', 'thumbsdown -1'], ['🚀', 'rocket'],
];

/** Fills the text, "(edited)" and reactions of a stored message's bubble. */
export function fillParts(n, m, me) {
  const body = n.querySelector('.text');
  n.classList.toggle('deleted', !!m.deleted);
  n.classList.toggle('mentions-me', !m.deleted && m.from !== me && (m.mentions ?? []).includes(me));
  if (m.deleted) {
    body.formatted = null;
    body.textContent = 'message deleted';
  } else {
    setFormatted(body, m.text, me);
  }
  renderFiles(n, m);
  const edited = n.querySelector('.edited');
  edited.hidden = !m.edited_ts || !!m.deleted;
  n.classList.toggle('is-edited', !edited.hidden);
  if (m.edited_ts) edited.title = `Edited ${formatFull(m.edited_ts)}`;
  const row = n.querySelector('.reactions');
  row.replaceChildren(...(m.deleted ? [] : (m.reactions ?? []).map((r) => chip(m, r, me))));
  row.hidden = !row.children.length;
  n.querySelector('.more').hidden = !!m.deleted;
}

function chip(m, r, me) {
  const mine = r.users.includes(me);
  const who = r.users.map((u) => (u === me ? 'you' : u)).join(', ');
  return h('button', {
    className: `chip${mine ? ' mine' : ''}`,
    attrs: { type: 'button', 'aria-pressed': String(mine), title: `${r.emoji} by ${who}`, 'aria-label': `${r.emoji} ${r.users.length}, by ${who}` },
    on: { click: () => intents.react(m.room, m.seq, r.emoji, !mine) },
  }, h('span', { text: r.emoji }), h('span', { className: 'count', text: String(r.users.length) }));
}

/** Opens the message menu under `button`: arrow keys move, Escape closes and returns focus. */
export function openMenu(button, m, me) {
  closeMenu();
  const own = m.from === me;
  const items = [
    own && ['Edit', () => startEdit(button.closest('.msg'), m)],
    own && ['Delete', () => confirmDelete(m)],
    ['Reply', () => intents.reply(m)],
    ['React', () => openPicker(button, m)],
    ['Copy link', () => intents.copyLink(m.room, m.seq)],
  ].filter(Boolean);
  const menu = h('div', { className: 'msg-menu', attrs: { role: 'menu', 'aria-label': 'Message actions' } },
    ...items.map(([label, fn]) => h('button', {
      text: label, attrs: { type: 'button', role: 'menuitem', tabindex: '-1' },
      on: { click: () => { closeMenu(); fn(); } },
    })));
  menu.addEventListener('keydown', (e) => {
    const all = [...menu.querySelectorAll('[role=menuitem]')];
    const i = all.indexOf(document.activeElement);
    if (e.key === 'ArrowDown') all[(i + 1) % all.length].focus();
    else if (e.key === 'ArrowUp') all[(i - 1 + all.length) % all.length].focus();
    else if (e.key === 'Home') all[0].focus();
    else if (e.key === 'End') all.at(-1).focus();
    else if (e.key === 'Escape' || e.key === 'Tab') { closeMenu(); button.focus(); } else return;
    e.preventDefault();
    e.stopPropagation();
  });
  button.setAttribute('aria-expanded', 'true');
  button.after(menu);
  place(menu, button);
  menu.querySelector('[role=menuitem]').focus();
  listenOutside();
}

/** Puts a popup beside its button, inside the window: below it, or above when there is no room below. */
function place(popup, button) {
  const b = button.getBoundingClientRect();
  const p = popup.getBoundingClientRect();
  const left = Math.max(8, Math.min(b.right - p.width, window.innerWidth - p.width - 8));
  const below = b.bottom + 4;
  const top = below + p.height > window.innerHeight - 8 ? Math.max(8, b.top - p.height - 4) : below;
  popup.style.left = `${left}px`;
  popup.style.top = `${top}px`;
}

let listening = false;
/** A click anywhere outside an open menu or picker (and not on a "More actions" button) closes it. */
function listenOutside() {
  if (listening) return;
  listening = true;
  document.addEventListener('click', (e) => {
    if (!e.target.closest?.('.msg-menu, .picker, .more')) closeMenu();
  });
}

export function closeMenu() {
  for (const x of document.querySelectorAll('.msg-menu, .picker')) {
    x.previousElementSibling?.setAttribute?.('aria-expanded', 'false');
    x.remove();
  }
}

/** A small emoji picker: common emoji and a search by short name. */
export function openPicker(anchor, m) {
  closeMenu();
  const grid = h('div', { className: 'picker-grid' });
  const fill = (q) => grid.replaceChildren(...COMMON_EMOJI.filter(([, names]) => !q || names.includes(q.toLowerCase().replace(/:/g, '')))
    .map(([e, names]) => h('button', {
      text: e, attrs: { type: 'button', title: `:${names.split(' ')[0]}:`, 'aria-label': `React with ${names.split(' ')[0]}` },
      on: { click: () => { closeMenu(); intents.react(m.room, m.seq, e, true); } },
    })));
  const search = h('input', { attrs: { type: 'search', placeholder: 'Search emoji', 'aria-label': 'Search emoji' }, on: { input: (e) => fill(e.target.value.trim()) } });
  const picker = h('div', { className: 'picker', attrs: { role: 'dialog', 'aria-label': 'Add reaction' } }, search, grid);
  picker.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.stopPropagation(); closeMenu(); anchor.focus(); } });
  fill('');
  anchor.after(picker);
  place(picker, anchor);
  search.focus();
  listenOutside();
}

/** Inline editor in place of the text: Enter saves, Escape cancels. */
function startEdit(n, m) {
  if (!n) return;
  const body = n.querySelector('.text');
  const box = h('textarea', { className: 'edit-box', attrs: { 'aria-label': 'Edit message', rows: '2', dir: 'auto' } });
  box.value = m.text;
  const done = () => { box.remove(); body.hidden = false; n.querySelector('.more')?.focus(); };
  box.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); done(); } else if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      const text = box.value.trim();
      if (text && text !== m.text) intents.edit(m.room, m.seq, text);
      done();
    }
  });
  body.hidden = true;
  body.after(box);
  box.focus();
}

function confirmDelete(m) {
  const dlg = h('dialog', { className: 'confirm', attrs: { 'aria-label': 'Delete message' } },
    h('p', { text: 'Delete this message? Everyone in the room will see "message deleted".' }),
    h('div', { className: 'dialog-actions' },
      h('button', { className: 'btn', text: 'Cancel', attrs: { type: 'button' }, on: { click: () => dlg.close() } }),
      h('button', { className: 'btn danger', text: 'Delete', attrs: { type: 'button' }, on: { click: () => { dlg.close(); intents.remove(m.room, m.seq); } } })));
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
}
