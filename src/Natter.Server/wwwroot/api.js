// HTTP API calls (protocol.md, "HTTP API"). The session is the HttpOnly cookie set by /api/login,
// so every call is same-origin with credentials and the token in the login reply is not kept.

/** A failed call: HTTP status plus the problem-details title/detail the server sent. */
export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super(problem?.detail || problem?.title || `Request failed (HTTP ${status})`);
    this.name = 'ApiError';
    this.status = status;
    this.title = problem?.title ?? null;
    this.detail = problem?.detail ?? null;
    this.retryAfter = retryAfter ? Number.parseInt(retryAfter, 10) || null : null;
  }
}

async function request(method, path, body) {
  const init = {
    method,
    credentials: 'same-origin',
    headers: { Accept: 'application/json, application/problem+json' },
  };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, { title: 'Network error', detail: 'Could not reach the server. Check your connection and try again.' });
  }
  const text = res.status === 204 ? '' : await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) throw new ApiError(res.status, data, res.headers.get('Retry-After'));
  return data;
}

const room = (id) => `/api/rooms/${encodeURIComponent(id)}`;

export const api = {
  register: (username, password) => request('POST', '/api/register', { username, password }),
  login: (username, password) => request('POST', '/api/login', { username, password }),
  logout: () => request('POST', '/api/logout'),
  me: () => request('GET', '/api/me'),
  /** The server's limits: text length, send and event rates, username and password rules. */
  config: () => request('GET', '/api/config'),
  onlineUsers: () => request('GET', '/api/users?online=true'),
  rooms: () => request('GET', '/api/rooms'),
  publicRooms: () => request('GET', '/api/rooms/public'),
  createRoom: (name, more = {}) => request('POST', '/api/rooms', { name, ...more }),
  // Rooms with owners (protocol v2 §4).
  updateRoom: (id, changes) => request('PATCH', room(id), changes),
  deleteRoom: (id) => request('DELETE', room(id)),
  members: (id) => request('GET', `${room(id)}/members`),
  bans: (id) => request('GET', `${room(id)}/bans`),
  invite: (id, username) => request('POST', `${room(id)}/invites`, { username }),
  kick: (id, username) => request('POST', `${room(id)}/kick`, { username }),
  ban: (id, username) => request('POST', `${room(id)}/bans`, { username }),
  unban: (id, username) => request('DELETE', `${room(id)}/bans/${encodeURIComponent(username)}`),
  setRole: (id, username, role) => request('PUT', `${room(id)}/roles/${encodeURIComponent(username)}`, { role }),
  joinRoom: (id) => request('POST', `${room(id)}/join`),
  leaveRoom: (id) => request('POST', `${room(id)}/leave`),
  direct: (username) => request('POST', '/api/direct', { username }),
  edit: (id, seq, text, client_id) => request('PATCH', `${room(id)}/messages/${seq}`, { text, client_id }),
  remove: (id, seq, client_id) => request('DELETE', `${room(id)}/messages/${seq}`, { client_id }),
  react: (id, seq, emoji, on, client_id) =>
    request(on ? 'PUT' : 'DELETE', `${room(id)}/messages/${seq}/reactions/${encodeURIComponent(emoji)}`, { client_id }),
  /** Search (protocol v2 §2): {results, cursor}; results newest first, cursor null on the last page. */
  search({ q, room, from, limit, cursor }) {
    const p = new URLSearchParams({ q });
    if (room) p.set('room', room);
    if (from) p.set('from', from);
    if (limit != null) p.set('limit', String(limit));
    if (cursor) p.set('cursor', cursor);
    return request('GET', `/api/search?${p}`);
  },
  // Accounts (protocol v2 §5)
  users: () => request('GET', '/api/users'),
  updateProfile: (changes) => request('PATCH', '/api/me', changes),
  changePassword: (current, next) => request('POST', '/api/me/password', { current, new: next }),
  sessions: () => request('GET', '/api/me/sessions'),
  revokeSession: (id) => request('DELETE', `/api/me/sessions/${encodeURIComponent(id)}`),
  blocks: () => request('GET', '/api/me/blocks'),
  block: (username) => request('PUT', `/api/me/blocks/${encodeURIComponent(username)}`),
  unblock: (username) => request('DELETE', `/api/me/blocks/${encodeURIComponent(username)}`),
  findUsers: (q) => request('GET', `/api/admin/users${q ? `?q=${encodeURIComponent(q)}` : ''}`),
  setUserStatus: (username, status) => request('PATCH', `/api/users/${encodeURIComponent(username)}`, { status }),
  /** Messages in ascending seq: the newest below `before`, or the oldest above `after`. */
  messages(id, { before, after, around, limit } = {}) {
    const q = new URLSearchParams();
    if (around != null) q.set('around', String(around));
    if (before != null) q.set('before', String(before));
    if (after != null) q.set('after', String(after));
    if (limit != null) q.set('limit', String(limit));
    const qs = q.toString();
    return request('GET', `${room(id)}/messages${qs ? `?${qs}` : ''}`);
  },
};
