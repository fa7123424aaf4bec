// The "@" autocomplete over the message box: a listbox of people, the message box as its combobox
// stays a textbox (aria-activedescendant names the highlighted option). Drawn here; what it lists and what a pick does
// come from actions/mentions.js.

import { avatar, h } from './dom.js';

const $ = (id) => document.getElementById(id);

/** @param {{username: string, online: boolean}[]} people  @param {number} active  @param {(name) => void} onPick */
export function showMentionList(people, active, onPick) {
  const input = $('message-input');
  let list = $('mention-list');
  if (!list) {
    list = h('ul', { className: 'mention-list', attrs: { id: 'mention-list', role: 'listbox', 'aria-label': 'People to mention' } });
    // A press on an option must not take focus from the message box.
    list.addEventListener('mousedown', (e) => e.preventDefault());
    $('composer').append(list);
  }
  list.replaceChildren(...people.map((p, i) => h('li', {
    className: `mention-option${i === active ? ' active' : ''}`,
    attrs: { id: `mention-option-${i}`, role: 'option', 'aria-selected': String(i === active) },
    on: { click: () => onPick(p.username) },
  }, avatar(p.username), h('span', { className: 'mention-name', text: p.username, attrs: { dir: 'auto' } }),
  p.online ? h('span', { className: 'dot', attrs: { title: 'online', 'aria-hidden': 'true' } }) : null,
  p.online ? h('span', { className: 'visually-hidden', text: ', online' }) : null)));
  list.children[active]?.scrollIntoView({ block: 'nearest' });
  // A textarea keeps its own role; these are the attributes a textbox may carry.
  input.setAttribute('aria-controls', 'mention-list');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-activedescendant', `mention-option-${active}`);
}

export function hideMentionList() {
  $('mention-list')?.remove();
  const input = $('message-input');
  input.removeAttribute('aria-controls');
  input.removeAttribute('aria-activedescendant');
}
