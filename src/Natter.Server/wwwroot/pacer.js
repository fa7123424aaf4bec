// The client's own pacing, so it stays under the server's per-user rates (GET /api/config) instead of
// being refused with rate_limited.

/** A token bucket like the server's: up to `burst` tokens, refilled at `perSecond`. */
export class TokenBucket {
  #perSecond;
  #burst;
  #tokens;
  #at;

  constructor(perSecond, burst) {
    this.#perSecond = Math.max(0.1, perSecond);
    this.#burst = Math.max(1, burst);
    this.#tokens = this.#burst;
    this.#at = performance.now();
  }

  /** Takes a token: 0 when one was there, otherwise the milliseconds until one will be (nothing taken). */
  take(now = performance.now()) {
    this.#tokens = Math.min(this.#burst, this.#tokens + (Math.max(0, now - this.#at) * this.#perSecond) / 1000);
    this.#at = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.#tokens) * 1000) / this.#perSecond);
  }
}

/**
 * The send and event buckets for the server's limits, made the first time the limits are known.
 * The server's buckets refill in steps (a tenth of the rate every 100 ms, and a step is skipped when its
 * timer runs a little early), so its rate can be as low as half the configured one for a while. The
 * client paces at half the rate and keeps a fifth of a second's sends back from the burst, which stays
 * under the server's bucket however its steps fall.
 */
export class Rates {
  #limits;
  #buckets = null;

  /** @param {() => ({sends_per_second, send_burst, events_per_second}|null)} limits null while unknown */
  constructor(limits) { this.#limits = limits; }

  /** Chat messages (socket and HTTP together on the server); null while the limits are unknown. */
  get sends() { return this.#get()?.sends ?? null; }

  /** Typing and read frames; null while the limits are unknown. */
  get events() { return this.#get()?.events ?? null; }

  #get() {
    const l = this.#limits();
    if (l) {
      this.#buckets ??= {
        sends: new TokenBucket(l.sends_per_second / 2, l.send_burst - Math.ceil(l.sends_per_second / 5)),
        events: new TokenBucket(l.events_per_second / 2, l.events_per_second),
      };
    }
    return this.#buckets;
  }
}

/**
 * Items sent in the order they were put, one token each. Putting an item under a key that is already
 * waiting replaces it (a newer read marker makes the older one pointless) and keeps its place.
 */
export class PacedQueue {
  #items = new Map();
  #timer = 0;
  #bucket;
  #canSend;
  #isStale;
  #send;

  /**
   * @param {object} o
   * @param {() => TokenBucket|null} o.bucket the bucket to take from; null sends at once
   * @param {() => boolean} o.canSend false while nothing can go out (items keep waiting)
   * @param {(item) => boolean} [o.isStale] true for an item no longer worth sending (dropped, no token taken)
   * @param {(item) => void} o.send
   */
  constructor({ bucket, canSend, isStale, send }) {
    this.#bucket = bucket;
    this.#canSend = canSend;
    this.#isStale = isStale ?? (() => false);
    this.#send = send;
  }

  put(key, item) {
    this.#items.set(key, item);
    this.drain();
  }

  drain() {
    clearTimeout(this.#timer);
    for (const [key, item] of this.#items) {
      if (this.#isStale(item)) {
        this.#items.delete(key);
        continue;
      }
      if (!this.#canSend()) return;
      const wait = this.#bucket()?.take() ?? 0;
      if (wait > 0) {
        this.#timer = setTimeout(() => this.drain(), wait);
        return;
      }
      this.#items.delete(key);
      this.#send(item);
    }
  }

  clear() {
    clearTimeout(this.#timer);
    this.#items.clear();
  }
}

/**
 * The newest value per key, sent at most once every `everyMs` for that key: the first goes at once, later
 * ones replace each other while they wait. Read markers use it: a burst of messages makes one marker with
 * the highest seq, not one per message.
 */
export class Coalescer {
  #everyMs;
  #send;
  /** key -> value waiting to go */
  #waiting = new Map();
  /** key -> when its last value went (performance.now()) */
  #sentAt = new Map();
  #timers = new Map();

  /**
   * @param {object} o
   * @param {number} o.everyMs the shortest time between two values for one key
   * @param {(key, value) => void} o.send
   */
  constructor({ everyMs, send }) {
    this.#everyMs = everyMs;
    this.#send = send;
  }

  put(key, value) {
    this.#waiting.set(key, value);
    if (this.#timers.has(key)) return;
    const wait = (this.#sentAt.get(key) ?? -Infinity) + this.#everyMs - performance.now();
    if (wait <= 0) this.flush(key);
    else this.#timers.set(key, setTimeout(() => this.flush(key), wait));
  }

  /** Sends the key's waiting value now (the room was left or the page hidden). */
  flush(key) {
    clearTimeout(this.#timers.get(key));
    this.#timers.delete(key);
    if (!this.#waiting.has(key)) return;
    const value = this.#waiting.get(key);
    this.#waiting.delete(key);
    this.#sentAt.set(key, performance.now());
    this.#send(key, value);
  }

  flushAll() {
    for (const key of [...this.#waiting.keys()]) this.flush(key);
  }

  clear() {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    this.#waiting.clear();
    this.#sentAt.clear();
  }
}
