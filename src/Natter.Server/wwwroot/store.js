// Client-side state: the user's rooms and the messages the client holds for each, merged by seq.

export class Room {
  constructor({ id, name, kind, last_seq = 0, read_seq = 0 }) {
    this.id = id;
    this.name = name ?? '';
    this.kind = kind ?? 'group';
    this.lastSeq = last_seq;
    this.readSeq = read_seq;
    /** seq -> message {room, seq, from, text, ts, client_id} */
    this.messages = new Map();
    this.minSeq = Infinity;
    this.maxSeq = 0;
    this.historyLoaded = false;
    this.hasOlder = true;
    this.loadingOlder = false;
    /** username -> highest seq they have read (from "read" frames) */
    this.readers = new Map();
    /** username -> time (ms) their typing notice expires */
    this.typing = new Map();
    this.#sorted = null;
  }

  #sorted;

  get unread() { return Math.max(0, this.lastSeq - this.readSeq); }

  /** Adds a message; false when that seq is already held (sync and live delivery can overlap). */
  add(m) {
    if (!m || !Number.isInteger(m.seq) || this.messages.has(m.seq)) return false;
    this.messages.set(m.seq, m);
    if (m.seq < this.minSeq) this.minSeq = m.seq;
    if (m.seq > this.maxSeq) this.maxSeq = m.seq;
    if (m.seq > this.lastSeq) this.lastSeq = m.seq;
    if (m.seq === 1) this.hasOlder = false;
    this.#sorted = null;
    return true;
  }

  /** Messages in ascending seq. */
  get list() {
    this.#sorted ??= [...this.messages.values()].sort((a, b) => a.seq - b.seq);
    return this.#sorted;
  }

  update({ name, kind, last_seq, read_seq }) {
    if (name != null) this.name = name;
    if (kind != null) this.kind = kind;
    if (Number.isInteger(last_seq) && last_seq > this.lastSeq) this.lastSeq = last_seq;
    if (Number.isInteger(read_seq) && read_seq > this.readSeq) this.readSeq = read_seq;
  }

  /** Who is typing right now (expired notices dropped). */
  typists(now = Date.now()) {
    const names = [];
    for (const [user, until] of this.typing) {
      if (until > now) names.push(user);
      else this.typing.delete(user);
    }
    return names;
  }
}

/** Display name of a room for `me`: a direct room is named after the other person. */
export function roomTitle(room, me) {
  if (room.kind !== 'direct') return room.name || 'Untitled room';
  const others = String(room.name || '')
    .split(/[\s,;:|&+/]+/)
    .filter((p) => p && p.toLowerCase() !== String(me).toLowerCase());
  return others.length ? others.join(', ') : room.name || 'Direct message';
}
