// Edits, deletions and reactions the user asks for. They go over HTTP (PATCH/DELETE a message, PUT/DELETE a
// reaction) with a client_id, so a retried call is stored at most once; the result arrives as an event frame
// on the socket like anyone else's, and is applied from there.

import { api } from '../api.js';
import { newClientId } from '../outbox.js';
import { applyToMessage, store } from '../state.js';
import { toast } from '../views/dom.js';
import { highlight, redrawQuotes, renderReplyBar } from '../views/reply.js';
import { renderActive } from '../views/room.js';

const clientId = () => `w-${newClientId()}`;

export async function editMessage(room, seq, text) {
  try { await api.edit(room, seq, text, clientId()); } catch (e) { toast(`Could not edit the message: ${e.message}`); }
}

export async function deleteMessage(room, seq) {
  try { await api.remove(room, seq, clientId()); } catch (e) { toast(`Could not delete the message: ${e.message}`); }
}

export async function react(room, seq, emoji, on) {
  try { await api.react(room, seq, emoji, on, clientId()); } catch (e) { toast(`Could not react: ${e.message}`); }
}

/** Copies the message's address (#room/<id>/<seq>) to the clipboard. */
export async function copyLink(room, seq) {
  const url = `${location.origin}${location.pathname}#room/${encodeURIComponent(room)}/${seq}`;
  try {
    await navigator.clipboard.writeText(url);
    toast('Link copied');
  } catch {
    toast(url);
  }
}

/** The composer answers `m` until sent or cancelled. */
export function startReply(m) {
  store.setReplyTo(m);
  renderReplyBar();
  document.getElementById('message-input')?.focus();
}

export function cancelReply() {
  store.setReplyTo(null);
  renderReplyBar();
  document.getElementById('message-input')?.focus();
}

/** Originals of replies that are not among a room's loaded messages, by "room:seq": the message, or null while loading or when it cannot be read. */
const quoted = new Map();
/** Events of the room log for an original still loading, by "room:seq", applied in order when it arrives. */
const waiting = new Map();

/**
 * The original a reply quotes when it is older than what is loaded: fetched once (around=seq, limit=1) and the
 * quotes redrawn when it arrives. The copy follows the room's live events (see quoteEvent); once the original is
 * loaded with the history, the room's own copy is shown.
 */
export function quotedMessage(roomId, seq) {
  const key = `${roomId}:${seq}`;
  if (quoted.has(key)) return quoted.get(key);
  quoted.set(key, null);
  api.messages(roomId, { around: seq, limit: 1 }).then((page) => {
    let m = page.find((x) => x.seq === seq);
    const events = waiting.get(key) ?? [];
    waiting.delete(key);
    if (!m) return;
    // An event that arrived while loading may or may not be in the answer: applying it again changes nothing.
    for (const f of events) m = applyToMessage(m, f);
    quoted.set(key, Object.freeze(m));
    redrawQuotes(roomId, seq);
  }, () => { quoted.delete(key); waiting.delete(key); });
  return null;
}

/**
 * A live event of the room log (already applied to the room): a quoted copy of its target follows it, and after
 * an edit or a deletion the shown quotes of that message are drawn again (from the room's copy or the quoted one).
 */
export function quoteEvent(roomId, f) {
  if (!Number.isInteger(f.target)) return;
  const key = `${roomId}:${f.target}`;
  if (quoted.has(key)) {
    const m = quoted.get(key);
    if (m) quoted.set(key, Object.freeze(applyToMessage(m, f)));
    else waiting.set(key, [...(waiting.get(key) ?? []), f]);
  }
  if (f.type === 'edit' || f.type === 'delete') redrawQuotes(roomId, f.target);
}

/** Shows a message: at once when on screen, else after loading the messages around it (and those between). */
export async function jumpTo(roomId, seq) {
  if (highlight(seq)) return;
  const room = store.room(roomId);
  if (!room) return;
  try {
    const page = await api.messages(roomId, { around: seq, limit: 50 });
    const oldMin = room.minSeq;
    store.addMessages(room, page);
    // Fill the stretch between that page and what was held, so the log has no hole.
    let after = page.at(-1)?.seq ?? seq;
    for (let i = 0; i < 10 && after < oldMin - 1; i++) {
      const more = await api.messages(roomId, { after, before: oldMin, limit: 200 });
      store.addMessages(room, more);
      if (more.length < 200) break;
      after = more.at(-1).seq;
    }
  } catch (e) {
    toast(`Could not load that message: ${e.message}`);
    return;
  }
  if (store.activeId === roomId) renderActive();
  highlight(seq);
}
