// Edits, deletions and reactions the user asks for. They go over HTTP (PATCH/DELETE a message, PUT/DELETE a
// reaction) with a client_id, so a retried call is stored at most once; the result arrives as an event frame
// on the socket like anyone else's, and is applied from there.

import { api } from '../api.js';
import { toast } from '../views/dom.js';

const clientId = () => `w-${crypto.randomUUID()}`;

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
