// The one WebSocket to /ws: connect, sync, reconnect with backoff, heartbeat; unsent messages live in its
// outbox (outbox.js). Sends, typing and read frames go no faster than the server's rates allow (pacer.js).
//
// Events (all CustomEvent, payload in `detail`):
//   state     {state, retryAt}     'connecting' | 'online' | 'offline' | 'loggedout' | 'idle'
//   frame     frame                every server frame except pong (welcome, message, synced, ...)
//   outbox    -                    the outbox changed (a send queued, failed, retried or acked)
//   acked     {pending, ack}       a queued send was stored by the server
//   eventrefused {frame, error}    the server refused a typing or read frame (never shown to the user)
//   loggedout -                    close code 4001, or the session is gone after a refused upgrade

import { Outbox } from './outbox.js';
import { PacedQueue, Rates } from './pacer.js';

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 5000;
const PING_EVERY_MS = 20000;
const PONG_TIMEOUT_MS = 10000;
const SYNC_TIMEOUT_MS = 5000;
const RESEND_CHECK_MS = 10000;
const CLOSE_LOGGED_OUT = 4001;
/** Typing and read frames remembered by ref, so a refusal can be traced to its frame. */
const EVENT_REFS_KEPT = 64;

export class Connection extends EventTarget {
  #url;
  #syncState;
  #checkSession;
  #rates;
  #ws = null;
  #state = 'idle';
  #attempt = 0;
  #retryTimer = 0;
  #retryAt = 0;
  #stopped = true;
  #refSeq = 0;
  #syncRef = null;
  #synced = false;
  #welcomed = false;
  #timers = [];
  #outbox;
  /** Read frames waiting for an event token, by key; they wait through a reconnect. */
  #events = new PacedQueue({ bucket: () => this.#rates.events, canSend: () => this.#ready(), send: (f) => this.#sendEvent(f) });
  /** ref -> the typing or read frame sent with it (the newest few) */
  #eventRefs = new Map();

  /**
   * @param {object} o
   * @param {string} o.url ws(s) URL of /ws
   * @param {() => Record<string, number>} o.syncState room id -> last seq the client has
   * @param {() => Promise<boolean|null>} o.checkSession false when the session is gone, null when unknown
   * @param {string} o.storageKey localStorage key that keeps the outbox across reloads
   * @param {() => ({sends_per_second: number, send_burst: number, events_per_second: number}|null)} [o.limits]
   *   the server's rates (GET /api/config); null while unknown (nothing is paced then)
   */
  constructor({ url, syncState, checkSession, storageKey, limits }) {
    super();
    this.#url = url;
    this.#syncState = syncState;
    this.#checkSession = checkSession;
    this.#rates = new Rates(limits ?? (() => null));
    this.#outbox = new Outbox({
      storageKey,
      bucket: () => this.#rates.sends,
      canSend: () => this.#state === 'online' && this.#synced,
      transmit: (p) => {
        p.ref = this.#ref('s');
        const frame = { type: 'send', ref: p.ref, room: p.room, text: p.text, client_id: p.client_id };
        if (Number.isInteger(p.reply_to)) frame.reply_to = p.reply_to;
        if (Array.isArray(p.files) && p.files.length) frame.files = p.files.map((f) => f.id);
        this.send(frame);
      },
      onChange: () => this.dispatchEvent(new CustomEvent('outbox')),
    });
  }

  get state() { return this.#state; }
  get retryAt() { return this.#retryAt; }
  /** Queued sends not yet acked, oldest first. */
  get pending() { return this.#outbox.list; }

  start() {
    this.#stopped = false;
    this.#open();
    window.addEventListener('online', this.#onNetworkBack);
  }

  stop() {
    this.#stopped = true;
    window.removeEventListener('online', this.#onNetworkBack);
    clearTimeout(this.#retryTimer);
    this.#clearTimers();
    this.#events.clear();
    const ws = this.#ws;
    this.#ws = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, 'bye');
    this.#setState('idle');
  }

  /** Skip the rest of the backoff wait. */
  reconnectNow() {
    if (this.#stopped || this.#state !== 'offline') return;
    clearTimeout(this.#retryTimer);
    this.#open();
  }

  /** Sends a frame when the socket is open; returns false (and drops it) otherwise. */
  send(frame) {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || !this.#welcomed) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  /**
   * Sends a typing or read frame within the server's event rate. Without a `key` a frame over the rate is
   * dropped (false); with one it waits, and a newer frame with the same key replaces it (true).
   */
  sendEvent(frame, key = null) {
    if (!this.#ready()) return false;
    if (key) {
      this.#events.put(key, frame);
      return true;
    }
    return (this.#rates.events?.take() ?? 0) > 0 ? false : this.#sendEvent(frame);
  }

  /** Sends a typing or read frame with a ref of its own, so an error answering it is known for what it is. */
  #sendEvent(frame) {
    const f = { ...frame, ref: this.#ref('e') };
    if (!this.send(f)) return false;
    this.#eventRefs.set(f.ref, f);
    if (this.#eventRefs.size > EVENT_REFS_KEPT) this.#eventRefs.delete(this.#eventRefs.keys().next().value);
    return true;
  }

  /** Queues a chat message; it is shown as pending until acked and resent after reconnects. */
  sendMessage(room, text, replyTo = null, files = []) { return this.#outbox.add(room, text, replyTo, files); }

  /** Sends a failed message again with its original client_id, so it is stored at most once. */
  retry(clientId) { this.#outbox.retry(clientId); }

  discard(clientId) { this.#outbox.remove(clientId); }

  /** A "message" frame with our client_id arrived (maybe before its ack, e.g. during sync). */
  confirm(clientId) { this.#outbox.remove(clientId); }

  /**
   * Asks again for a room's log above `after` on the open socket (a backfill sync: protocol.md, delivery 3):
   * every kind of event comes again in seq order, then a `synced` frame with the returned ref. Null when the
   * socket cannot take it now.
   */
  backfill(roomId, after) {
    const ref = this.#ref('b');
    return this.send({ type: 'sync', ref, rooms: { [roomId]: after } }) ? ref : null;
  }

  /** Drops queued sends for a room the user left. */
  forgetRoom(roomId) { this.#outbox.removeRoom(roomId); }

  #ref(prefix) { return `${prefix}${++this.#refSeq}`; }

  #ready() {
    const ws = this.#ws;
    return !!ws && ws.readyState === WebSocket.OPEN && this.#welcomed;
  }

  #open() {
    this.#clearTimers();
    this.#welcomed = false;
    this.#synced = false;
    this.#setState('connecting');
    let ws;
    try {
      ws = new WebSocket(this.#url);
    } catch {
      this.#scheduleReconnect();
      return;
    }
    this.#ws = ws;
    ws.addEventListener('open', () => {
      // The first frame is the sync, so missed messages arrive before live ones (protocol.md, guarantee 3).
      this.#syncRef = this.#ref('sync');
      ws.send(JSON.stringify({ type: 'sync', ref: this.#syncRef, rooms: this.#syncState() }));
    });
    ws.addEventListener('message', (ev) => {
      if (ws !== this.#ws || typeof ev.data !== 'string') return;
      let frame;
      try { frame = JSON.parse(ev.data); } catch { return; }
      if (frame && typeof frame.type === 'string') this.#onFrame(frame);
    });
    ws.addEventListener('close', (ev) => this.#onClose(ws, ev));
  }

  #onFrame(f) {
    switch (f.type) {
      case 'welcome':
        this.#welcomed = true;
        this.#attempt = 0;
        this.#setState('online');
        this.#startHeartbeat();
        this.#after(SYNC_TIMEOUT_MS, () => { if (!this.#synced) this.#onSynced(); });
        this.#events.drain();
        break;
      case 'synced':
        if (f.ref === this.#syncRef && !this.#synced) {
          this.dispatchEvent(new CustomEvent('frame', { detail: f }));
          this.#onSynced();
          return;
        }
        break;
      case 'pong':
        clearTimeout(this.#pongTimer);
        return;
      case 'ack': {
        const p = this.#outbox.take(f.client_id);
        if (p) {
          this.dispatchEvent(new CustomEvent('acked', { detail: { pending: p, ack: f } }));
          this.#outbox.changed();
        }
        break;
      }
      case 'error': {
        const event = typeof f.ref === 'string' ? this.#eventRefs.get(f.ref) : null;
        if (event) {
          // The client's own background frame (a rate_limited typing or read): not the user's business.
          this.#eventRefs.delete(f.ref);
          this.dispatchEvent(new CustomEvent('eventrefused', { detail: { frame: event, error: f } }));
          return;
        }
        this.#outbox.refused(f);
        break;
      }
      default:
        break;
    }
    this.dispatchEvent(new CustomEvent('frame', { detail: f }));
  }

  #onSynced() {
    this.#synced = true;
    this.#outbox.flush();
  }

  #onClose(ws, ev) {
    if (ws !== this.#ws) return;
    this.#ws = null;
    this.#clearTimers();
    if (this.#stopped) return;
    if (ev.code === CLOSE_LOGGED_OUT) {
      this.#loggedOut();
      return;
    }
    const wasWelcomed = this.#welcomed;
    this.#welcomed = false;
    this.#synced = false;
    this.#scheduleReconnect(!wasWelcomed);
  }

  #scheduleReconnect(checkSessionFirst = false) {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.#attempt);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.#attempt++;
    this.#retryAt = Date.now() + delay;
    this.#setState('offline');
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(async () => {
      if (this.#stopped) return;
      // A refused upgrade looks like any network failure; ask the API whether the session still exists.
      if (checkSessionFirst && this.#checkSession && (await this.#checkSession()) === false) {
        this.#loggedOut();
        return;
      }
      if (!this.#stopped && this.#state === 'offline') this.#open();
    }, delay);
  }

  #loggedOut() {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#setState('loggedout');
    this.dispatchEvent(new CustomEvent('loggedout'));
  }

  #startHeartbeat() {
    const beat = () => {
      if (this.send({ type: 'ping', ref: this.#ref('p') })) {
        clearTimeout(this.#pongTimer);
        // No pong: the network is gone without a close frame. Close and let backoff reconnect.
        this.#pongTimer = setTimeout(() => this.#ws?.close(4000, 'no pong'), PONG_TIMEOUT_MS);
      }
      this.#outbox.resendStale();
    };
    this.#timers.push(setInterval(beat, Math.min(PING_EVERY_MS, RESEND_CHECK_MS)));
  }

  #pongTimer = 0;

  #after(ms, fn) { this.#timers.push(setTimeout(fn, ms)); }

  #clearTimers() {
    for (const t of this.#timers) { clearTimeout(t); clearInterval(t); }
    this.#timers = [];
    clearTimeout(this.#pongTimer);
    this.#outbox.stopSending();
  }

  #onNetworkBack = () => this.reconnectNow();

  #setState(state) {
    if (state !== 'offline') this.#retryAt = 0;
    this.#state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, retryAt: this.#retryAt } }));
  }
}
