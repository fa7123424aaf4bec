// The one WebSocket to /ws: connect, sync, reconnect with backoff, and the outbox of unsent messages.
//
// Events (all CustomEvent, payload in `detail`):
//   state     {state, retryAt}     'connecting' | 'online' | 'offline' | 'loggedout' | 'idle'
//   frame     frame                every server frame except pong (welcome, message, synced, ...)
//   outbox    -                    the outbox changed (a send queued, failed, retried or acked)
//   acked     {pending, ack}       a queued send was stored by the server
//   loggedout -                    close code 4001, or the session is gone after a refused upgrade

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 5000;
const PING_EVERY_MS = 20000;
const PONG_TIMEOUT_MS = 10000;
const SYNC_TIMEOUT_MS = 5000;
const RESEND_AFTER_MS = 10000;
const CLOSE_LOGGED_OUT = 4001;

/** A client_id: 128 random bits. crypto.randomUUID needs a secure context; getRandomValues does not. */
export function newClientId() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export class Connection extends EventTarget {
  #url;
  #syncState;
  #checkSession;
  #storageKey;
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
  /** client_id -> {client_id, room, text, status: 'pending'|'failed', error, ref, sentAt, createdAt} */
  #outbox = new Map();

  /**
   * @param {object} o
   * @param {string} o.url ws(s) URL of /ws
   * @param {() => Record<string, number>} o.syncState room id -> last seq the client has
   * @param {() => Promise<boolean|null>} o.checkSession false when the session is gone, null when unknown
   * @param {string} o.storageKey localStorage key that keeps the outbox across reloads
   */
  constructor({ url, syncState, checkSession, storageKey }) {
    super();
    this.#url = url;
    this.#syncState = syncState;
    this.#checkSession = checkSession;
    this.#storageKey = storageKey;
    this.#loadOutbox();
  }

  get state() { return this.#state; }
  get retryAt() { return this.#retryAt; }
  /** Queued sends not yet acked, oldest first. */
  get pending() { return [...this.#outbox.values()]; }

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

  /** Queues a chat message; it is shown as pending until acked and resent after reconnects. */
  sendMessage(room, text) {
    const p = { client_id: newClientId(), room, text, status: 'pending', error: null, ref: null, sentAt: 0, createdAt: Date.now() };
    this.#outbox.set(p.client_id, p);
    this.#transmit(p);
    this.#outboxChanged();
    return p;
  }

  /** Sends a failed message again with its original client_id, so it is stored at most once. */
  retry(clientId) {
    const p = this.#outbox.get(clientId);
    if (!p) return;
    p.status = 'pending';
    p.error = null;
    this.#transmit(p);
    this.#outboxChanged();
  }

  discard(clientId) {
    if (this.#outbox.delete(clientId)) this.#outboxChanged();
  }

  /** A "message" frame with our client_id arrived (maybe before its ack, e.g. during sync). */
  confirm(clientId) {
    if (this.#outbox.delete(clientId)) this.#outboxChanged();
  }

  /** Drops queued sends for a room the user left. */
  forgetRoom(roomId) {
    let changed = false;
    for (const [id, p] of this.#outbox) if (p.room === roomId) { this.#outbox.delete(id); changed = true; }
    if (changed) this.#outboxChanged();
  }

  #ref(prefix) { return `${prefix}${++this.#refSeq}`; }

  #transmit(p) {
    if (this.#state !== 'online' || !this.#synced) return; // flushed after the next "synced"
    p.ref = this.#ref('s');
    p.sentAt = Date.now();
    this.send({ type: 'send', ref: p.ref, room: p.room, text: p.text, client_id: p.client_id });
  }

  #flushOutbox() {
    for (const p of this.#outbox.values()) if (p.status === 'pending') this.#transmit(p);
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
        const p = this.#outbox.get(f.client_id);
        if (p) {
          this.#outbox.delete(f.client_id);
          this.dispatchEvent(new CustomEvent('acked', { detail: { pending: p, ack: f } }));
          this.#outboxChanged();
        }
        break;
      }
      case 'error': {
        const p = f.ref ? this.pending.find((x) => x.ref === f.ref) : null;
        if (p) {
          p.status = 'failed';
          p.error = f.message || f.code || 'refused';
          p.code = f.code;
          this.#outboxChanged();
        }
        break;
      }
      default:
        break;
    }
    this.dispatchEvent(new CustomEvent('frame', { detail: f }));
  }

  #onSynced() {
    this.#synced = true;
    this.#flushOutbox();
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
      // Unacked sends are resent with the same client_id; the server answers a repeat with the first ack.
      const now = Date.now();
      for (const p of this.#outbox.values()) {
        if (p.status === 'pending' && p.sentAt && now - p.sentAt > RESEND_AFTER_MS) this.#transmit(p);
      }
    };
    this.#timers.push(setInterval(beat, Math.min(PING_EVERY_MS, RESEND_AFTER_MS)));
  }

  #pongTimer = 0;

  #after(ms, fn) { this.#timers.push(setTimeout(fn, ms)); }

  #clearTimers() {
    for (const t of this.#timers) { clearTimeout(t); clearInterval(t); }
    this.#timers = [];
    clearTimeout(this.#pongTimer);
  }

  #onNetworkBack = () => this.reconnectNow();

  #setState(state) {
    if (state !== 'offline') this.#retryAt = 0;
    this.#state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, retryAt: this.#retryAt } }));
  }

  #outboxChanged() {
    this.#saveOutbox();
    this.dispatchEvent(new CustomEvent('outbox'));
  }

  #saveOutbox() {
    if (!this.#storageKey) return;
    try {
      const items = this.pending.map(({ client_id, room, text, status, error, createdAt }) => ({ client_id, room, text, status, error, createdAt }));
      if (items.length) localStorage.setItem(this.#storageKey, JSON.stringify(items));
      else localStorage.removeItem(this.#storageKey);
    } catch { /* storage full or disabled: the outbox still lives in memory */ }
  }

  #loadOutbox() {
    if (!this.#storageKey) return;
    try {
      const items = JSON.parse(localStorage.getItem(this.#storageKey) || '[]');
      for (const p of items) {
        if (typeof p?.client_id === 'string' && typeof p.room === 'string' && typeof p.text === 'string') {
          this.#outbox.set(p.client_id, { ...p, status: p.status === 'failed' ? 'failed' : 'pending', ref: null, sentAt: 0 });
        }
      }
    } catch { /* ignore a corrupt entry */ }
  }
}
