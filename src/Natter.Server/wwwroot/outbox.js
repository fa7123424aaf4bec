// Unsent messages. Each keeps the client_id chosen once, so a resend is stored at most once; they are
// kept in localStorage per user, so a reload does not lose them, and go out no faster than the server's
// send rate allows.

import { PacedQueue } from './pacer.js';

const RESEND_AFTER_MS = 10000;

/**
 * A client_id: a UUIDv7 as 32 hex digits (48 bits of milliseconds, then 74 random bits), so ids sort by time and
 * the server's dedupe index takes them at its right edge. crypto.randomUUID needs a secure context; getRandomValues
 * does not.
 */
export function newClientId() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let ms = Date.now();
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = 0x70 | (b[6] & 0x0f); // version 7
  b[8] = 0x80 | (b[8] & 0x3f); // variant 10
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export class Outbox {
  #storageKey;
  #canSend;
  #onChange;
  /** client_id -> {client_id, room, text, status: 'pending'|'failed', error, code, ref, sentAt, createdAt} */
  #items = new Map();
  /** Messages waiting for a send token; cleared on close (every pending message goes again after "synced"). */
  #paced;

  /**
   * @param {object} o
   * @param {string|null} o.storageKey localStorage key that keeps the outbox across reloads
   * @param {() => import('./pacer.js').TokenBucket|null} o.bucket the send-rate bucket (null: no pacing)
   * @param {() => boolean} o.canSend true while the socket is synced and sends may go out
   * @param {(p) => void} o.transmit puts one message on the socket (sets its ref)
   * @param {() => void} o.onChange called after every change a reader can see
   */
  constructor({ storageKey, bucket, canSend, transmit, onChange }) {
    this.#storageKey = storageKey;
    this.#canSend = canSend;
    this.#onChange = onChange;
    this.#paced = new PacedQueue({
      bucket,
      canSend,
      isStale: (p) => this.#items.get(p.client_id) !== p || p.status !== 'pending',
      send: (p) => {
        p.sentAt = Date.now();
        transmit(p);
      },
    });
    this.#load();
  }

  /** Queued sends not yet acked, oldest first. */
  get list() { return [...this.#items.values()]; }

  /** Queues a chat message; it is pending until acked and sent again after reconnects. */
  add(room, text, replyTo = null, files = []) {
    const p = { client_id: newClientId(), room, text, reply_to: replyTo, files, status: 'pending', error: null, ref: null, sentAt: 0, createdAt: Date.now() };
    this.#items.set(p.client_id, p);
    this.#send(p);
    this.changed();
    return p;
  }

  /** Sends a failed message again with its original client_id, so it is stored at most once. */
  retry(clientId) {
    const p = this.#items.get(clientId);
    if (!p) return;
    p.status = 'pending';
    p.error = null;
    this.#send(p);
    this.changed();
  }

  /** Drops a message (discarded, or its own "message" frame arrived). */
  remove(clientId) {
    if (this.#items.delete(clientId)) this.changed();
  }

  /** Drops the messages for a room the user left. */
  removeRoom(roomId) {
    let changed = false;
    for (const [id, p] of this.#items) if (p.room === roomId) { this.#items.delete(id); changed = true; }
    if (changed) this.changed();
  }

  /** Takes an acked message out without telling anyone yet (the caller reports the ack, then calls changed()). */
  take(clientId) {
    const p = this.#items.get(clientId);
    if (p) this.#items.delete(clientId);
    return p ?? null;
  }

  /** An error frame answered a send: the message is shown as failed. False when no send has that ref. */
  refused(f) {
    const p = f.ref ? this.list.find((x) => x.ref === f.ref) : null;
    if (!p) return false;
    p.status = 'failed';
    p.error = f.message || f.code || 'refused';
    p.code = f.code;
    this.changed();
    return true;
  }

  /** After "synced": every pending message goes (again). */
  flush() {
    for (const p of this.#items.values()) if (p.status === 'pending') this.#send(p);
  }

  /** Unacked sends are resent with the same client_id; the server answers a repeat with the first ack. */
  resendStale(now = Date.now()) {
    for (const p of this.#items.values()) {
      if (p.status === 'pending' && p.sentAt && now - p.sentAt > RESEND_AFTER_MS) this.#send(p);
    }
  }

  /** The socket closed: nothing waits for a token any more. */
  stopSending() { this.#paced.clear(); }

  changed() {
    this.#save();
    this.#onChange();
  }

  #send(p) {
    if (this.#canSend()) this.#paced.put(p.client_id, p); // otherwise flushed after the next "synced"
  }

  #save() {
    if (!this.#storageKey) return;
    try {
      const items = this.list.map(({ client_id, room, text, reply_to, files, status, error, createdAt }) => ({ client_id, room, text, reply_to, files, status, error, createdAt }));
      if (items.length) localStorage.setItem(this.#storageKey, JSON.stringify(items));
      else localStorage.removeItem(this.#storageKey);
    } catch { /* storage full or disabled: the outbox still lives in memory */ }
  }

  #load() {
    if (!this.#storageKey) return;
    try {
      const items = JSON.parse(localStorage.getItem(this.#storageKey) || '[]');
      for (const p of items) {
        if (typeof p?.client_id === 'string' && typeof p.room === 'string' && typeof p.text === 'string') {
          this.#items.set(p.client_id, { ...p, status: p.status === 'failed' ? 'failed' : 'pending', ref: null, sentAt: 0 });
        }
      }
    } catch { /* ignore a corrupt entry */ }
  }
}
