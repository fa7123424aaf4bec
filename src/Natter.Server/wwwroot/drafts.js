// Drafts: what was typed in a room's message box and not sent yet, kept per user and room, so it stays
// with its room when another one is opened and survives a reload (localStorage; in memory when that is
// unavailable).

const PREFIX = 'natter.draft.';
const memory = new Map();

// A username never contains '/', so "<user>/<room>" cannot be read two ways.
const key = (user, room) => `${PREFIX}${user}/${room}`;

/** The draft for this user and room ('' when there is none). */
export function loadDraft(user, room) {
  if (!user || !room) return '';
  const k = key(user, room);
  try {
    const stored = localStorage.getItem(k);
    if (stored !== null) return stored;
  } catch { /* storage disabled: the copy in memory still answers */ }
  return memory.get(k) ?? '';
}

/** Keeps the text as the room's draft; empty text removes it. */
export function saveDraft(user, room, text) {
  if (!user || !room) return;
  const k = key(user, room);
  if (text) memory.set(k, text); else memory.delete(k);
  try {
    if (text) localStorage.setItem(k, text); else localStorage.removeItem(k);
  } catch { /* storage full or disabled: kept in memory for this page */ }
}

export const clearDraft = (user, room) => saveDraft(user, room, '');
