// The client's state: one store. Every other module reads it through the getters below and changes it
// only through the store's named update functions. A Room is read-only outside this file: its changes
// are methods keyed by symbols that only this module holds.

const SET = Symbol('set');
const ADD = Symbol('add');
const UPDATE = Symbol('update');
const READER = Symbol('reader');
const TYPING = Symbol('typing');
const EVENT = Symbol('event');

/** One room the user is in: its messages (merged by seq), unread count, readers and typists. */
class Room {
  #d;
  /** seq -> frozen message {room, seq, from, text, ts, client_id} */
  #messages = new Map();
  #sorted = null;
  /** username -> highest seq they have read (from "read" frames) */
  #readers = new Map();
  /** username -> time (ms) their typing notice expires */
  #typing = new Map();
  /** seqs of applied events that are not messages (edits, deletions, reactions, unknown kinds) */
  #events = new Set();

  constructor({ id, name, kind, last_seq = 0, read_seq = 0, topic, visibility, members, role }) {
    this.#d = {
      id,
      name: name ?? '',
      kind: kind ?? 'group',
      // Protocol v2 §4: the room's topic and visibility, its member count and the user's role in it.
      topic: topic ?? '',
      visibility: visibility ?? (kind === 'direct' ? 'private' : 'public'),
      members: Number.isInteger(members) ? members : 0,
      role: role ?? 'member',
      lastSeq: last_seq,
      readSeq: read_seq,
      mentionCount: 0,
      minSeq: Infinity,
      maxSeq: 0,
      historyLoaded: false,
      hasOlder: true,
      loadingOlder: false,
      /** highest seq this client has reported with a "read" frame */
      readSent: 0,
    };
  }

  get id() { return this.#d.id; }
  get name() { return this.#d.name; }
  get kind() { return this.#d.kind; }
  get topic() { return this.#d.topic; }
  get visibility() { return this.#d.visibility; }
  get members() { return this.#d.members; }
  get role() { return this.#d.role; }
  /** Owner or moderator: may change the settings, invite, kick and ban. */
  get moderates() { return this.#d.kind === 'group' && (this.#d.role === 'owner' || this.#d.role === 'moderator'); }
  get lastSeq() { return this.#d.lastSeq; }
  get readSeq() { return this.#d.readSeq; }
  /** Unread messages that mention the user (the server's mention_count, plus live ones). */
  get mentionCount() { return this.#d.mentionCount; }
  get minSeq() { return this.#d.minSeq; }
  get maxSeq() { return this.#d.maxSeq; }
  get historyLoaded() { return this.#d.historyLoaded; }
  get hasOlder() { return this.#d.hasOlder; }
  get loadingOlder() { return this.#d.loadingOlder; }
  get readSent() { return this.#d.readSent; }
  get unread() { return Math.max(0, this.#d.lastSeq - this.#d.readSeq); }
  /** Number of messages held. */
  get size() { return this.#messages.size; }

  /** Messages in ascending seq. */
  get list() {
    this.#sorted ??= Object.freeze([...this.#messages.values()].sort((a, b) => a.seq - b.seq));
    return this.#sorted;
  }

  /** [username, highest seq read] pairs from "read" frames. */
  get readers() { return [...this.#readers]; }

  /** Who is typing right now. */
  typists(now = Date.now()) {
    return [...this.#typing].filter(([, until]) => until > now).map(([user]) => user);
  }

  [SET](changes) { Object.assign(this.#d, changes); }

  /** Adds a message; false when that seq is already held (sync and live delivery can overlap). */
  [ADD](m) {
    if (!m || !Number.isInteger(m.seq) || this.#messages.has(m.seq)) return false;
    const d = this.#d;
    this.#messages.set(m.seq, Object.freeze({ ...m }));
    if (m.seq < d.minSeq) d.minSeq = m.seq;
    if (m.seq > d.maxSeq) d.maxSeq = m.seq;
    if (m.seq > d.lastSeq) d.lastSeq = m.seq;
    if (m.seq === 1) d.hasOlder = false;
    this.#sorted = null;
    return true;
  }

  /**
   * Applies an event frame of the room log (edit, delete, reaction, or a kind this client does not know):
   * the cursor moves past its seq whatever its kind; a known kind changes the message it targets, when held.
   * False when that seq was already applied.
   */
  [EVENT](f) {
    if (!f || !Number.isInteger(f.seq) || this.#messages.has(f.seq) || this.#events.has(f.seq)) return false;
    const d = this.#d;
    this.#events.add(f.seq);
    if (f.seq > d.maxSeq) d.maxSeq = f.seq;
    if (f.seq > d.lastSeq) d.lastSeq = f.seq;
    const m = this.#messages.get(f.target);
    if (!m) return true;
    const next = applyToMessage(m, f);
    if (next !== m) {
      this.#messages.set(m.seq, Object.freeze(next));
      this.#sorted = null;
    }
    return true;
  }

  [UPDATE]({ name, kind, last_seq, read_seq, mention_count, topic, visibility, members, role }) {
    const d = this.#d;
    if (typeof topic === 'string') d.topic = topic;
    if (typeof visibility === 'string') d.visibility = visibility;
    if (Number.isInteger(members)) d.members = members;
    if (typeof role === 'string') d.role = role;
    // A room list older than what this client holds (answered before a live mention arrived) keeps the live count.
    if (Number.isInteger(mention_count) && !(Number.isInteger(last_seq) && last_seq < d.lastSeq)) d.mentionCount = mention_count;
    if (name != null) d.name = name;
    if (kind != null) d.kind = kind;
    if (Number.isInteger(last_seq) && last_seq > d.lastSeq) d.lastSeq = last_seq;
    if (Number.isInteger(read_seq) && read_seq > d.readSeq) d.readSeq = read_seq;
  }

  [READER](user, seq) { this.#readers.set(user, Math.max(this.#readers.get(user) ?? 0, seq)); }

  [TYPING](user, until) {
    const now = Date.now();
    for (const [u, t] of this.#typing) if (t <= now) this.#typing.delete(u);
    if (until) this.#typing.set(user, until); else this.#typing.delete(user);
  }
}

/** The message after one event: an edit's text, a deletion, a reaction on or off (by set, so a replay is harmless). */
export function applyToMessage(m, f) {
  switch (f.type) {
    case 'edit':
      if (m.deleted) return m;
      return { ...m, text: String(f.text ?? ''), mentions: f.mentions ?? [], edited_ts: f.ts, rev: (m.rev ?? 0) + 1 };
    case 'delete':
      return { ...m, deleted: true, text: '', mentions: [], reactions: [], files: [], rev: (m.rev ?? 0) + 1 };
    case 'reaction': {
      if (m.deleted || typeof f.emoji !== 'string') return m;
      const list = (m.reactions ?? []).map((r) => ({ emoji: r.emoji, users: [...r.users] }));
      let r = list.find((x) => x.emoji === f.emoji);
      if (f.on !== false) {
        if (!r) list.push(r = { emoji: f.emoji, users: [] });
        if (!r.users.includes(f.from)) r.users.push(f.from);
      } else if (r) {
        r.users = r.users.filter((u) => u !== f.from);
      }
      return { ...m, reactions: list.filter((x) => x.users.length), rev: (m.rev ?? 0) + 1 };
    }
    default:
      return m;
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

const s = {
  /** the server's limits from GET /api/config; null until loaded (then the server alone checks) */
  limits: null,
  me: null,
  /** @type {Map<string, Room>} */
  rooms: new Map(),
  activeId: null,
  /** other people online */
  online: new Set(),
  /** The room named in the address (#room/<id>) when the session started: reopened once the list is known. */
  restoreId: null,
  connection: 'idle',
  retryAt: 0,
  /** unacked sends, oldest first: frozen copies of the connection's outbox */
  pending: Object.freeze([]),
  lastTypingSent: 0,
  /** the message the composer answers: {room, seq, from}, or null */
  replyTo: null,
  /** username -> frozen {username, display_name, avatar_url} of users this client has heard of (GET /api/users, /api/me) */
  profiles: new Map(),
  /** the signed-in user is a server admin (GET /api/me) */
  admin: false,
  /** where the open room's "new messages" divider goes: its read_seq when it was opened, {room, seq}, or null */
  unreadMarker: null,
};

export const store = {
  // ------------------------------------------------------------ reading
  get limits() { return s.limits; },
  get me() { return s.me; },
  get activeId() { return s.activeId; },
  get activeRoom() { return s.activeId ? s.rooms.get(s.activeId) ?? null : null; },
  room(id) { return s.rooms.get(id) ?? null; },
  hasRoom(id) { return s.rooms.has(id); },
  get rooms() { return [...s.rooms.values()]; },
  get roomIds() { return [...s.rooms.keys()]; },
  get online() { return [...s.online]; },
  isOnline(name) { return s.online.has(name); },
  get connection() { return s.connection; },
  get retryAt() { return s.retryAt; },
  get pending() { return s.pending; },
  get lastTypingSent() { return s.lastTypingSent; },
  get replyTo() { return s.replyTo; },
  /** The user object of a username, or null when this client has not heard of it. */
  profile(username) { return s.profiles.get(username) ?? null; },
  /** What to call a user: their display name once known, else their username. */
  displayName(username) { return s.profiles.get(username)?.display_name || username; },
  get admin() { return s.admin; },
  /** Adds or replaces user objects ({username, display_name, avatar_url}); true when any of them changed. */
  setProfiles(list) {
    let changed = false;
    for (const u of list ?? []) {
      if (!u || typeof u.username !== 'string') continue;
      const p = Object.freeze({ username: u.username, display_name: String(u.display_name || u.username), avatar_url: u.avatar_url ?? null });
      const old = s.profiles.get(u.username);
      if (!old || old.display_name !== p.display_name || old.avatar_url !== p.avatar_url) changed = true;
      s.profiles.set(u.username, p);
    }
    return changed;
  },
  setAdmin(admin) { s.admin = !!admin; },
  setReplyTo(r) { s.replyTo = r ? Object.freeze({ room: r.room, seq: r.seq, from: r.from }) : null; },
  get unreadMarker() { return s.unreadMarker; },
  setUnreadMarker(room, seq) { s.unreadMarker = room && Number.isInteger(seq) ? Object.freeze({ room, seq }) : null; },

  // ------------------------------------------------------------ session
  setLimits(limits) { s.limits = limits ? Object.freeze({ ...limits }) : null; },

  startSession(me, restoreId) {
    s.me = me;
    s.rooms.clear();
    s.activeId = null;
    s.online.clear();
    s.restoreId = restoreId;
    s.pending = Object.freeze([]);
    s.lastTypingSent = 0;
  },

  endSession() {
    s.me = null;
    s.profiles.clear();
    s.admin = false;
    s.rooms.clear();
    s.activeId = null;
    s.online.clear();
    s.restoreId = null;
    s.pending = Object.freeze([]);
    s.connection = 'idle';
    s.retryAt = 0;
  },

  // ------------------------------------------------------------ rooms
  /** Adds a room or updates the one held; returns it (null for a frame without an id). */
  upsertRoom(r) {
    if (!r?.id) return null;
    let room = s.rooms.get(r.id);
    if (!room) {
      room = new Room(r);
      if (Number.isInteger(r.mention_count)) room[SET]({ mentionCount: r.mention_count });
      s.rooms.set(r.id, room);
    } else {
      room[UPDATE](r);
    }
    return room;
  },

  removeRoom(id) {
    if (s.activeId === id) s.activeId = null;
    return s.rooms.delete(id);
  },

  setActive(id) { s.activeId = id && s.rooms.has(id) ? id : null; },

  /** The room to reopen from the address, once it is in the list; asked once. */
  takeRestoreId() {
    const id = s.restoreId;
    if (!id || !s.rooms.has(id)) return null;
    s.restoreId = null;
    return id;
  },

  // ------------------------------------------------------------ messages and reading
  /** Adds one message to the room; false when that seq is already held. */
  addMessage(room, m) { return room[ADD](m); },

  /** Applies a non-message event of the room log; false when its seq was already applied. */
  applyEvent(room, f) { return room[EVENT](f); },

  addMessages(room, list) {
    let n = 0;
    for (const m of list) if (room[ADD](m)) n++;
    return n;
  },

  setHistoryLoaded(room) { room[SET]({ historyLoaded: true }); },
  setNoOlder(room) { room[SET]({ hasOlder: false }); },
  setLoadingOlder(room, loading) { room[SET]({ loadingOlder: !!loading }); },

  /** Moves the room's read position forward (never back). */
  advanceRead(room, seq) { room[UPDATE]({ read_seq: seq }); },
  /** The highest seq reported to the server with a "read" frame (or known to be stored there). */
  setReadSent(room, seq) { room[SET]({ readSent: seq }); },
  /** A new message mentions the user (one more), or the room was read to its end (none). */
  addMention(room) { room[SET]({ mentionCount: room.mentionCount + 1 }); },
  clearMentions(room) { room[SET]({ mentionCount: 0 }); },

  setReader(room, username, seq) { room[READER](username, seq); },
  setTyping(room, username, until) { room[TYPING](username, until); },
  clearTyping(room, username) { room[TYPING](username, 0); },

  // ------------------------------------------------------------ people, connection, composer
  setOnline(names) { s.online = new Set(names); },
  setPresence(username, online) {
    if (online) s.online.add(username); else s.online.delete(username);
  },
  setConnection(state, retryAt = 0) {
    s.connection = state;
    s.retryAt = retryAt;
  },
  setPending(list) { s.pending = Object.freeze(list.map((p) => Object.freeze({ ...p }))); },
  setLastTypingSent(t) { s.lastTypingSent = t; },
};
