// Uploads from the composer: by the attach button, drag and drop onto the room, or pasting an image. Each file
// is sent at once with XMLHttpRequest (for its upload progress and abort); once uploaded it waits in the tray
// and goes with the next message sent from that room.

import { store } from '../state.js';
import { formatSize, renderTray } from '../views/files.js';

const MAX_FILES = 10;

/** roomId -> [{key, name, size, type, state: 'uploading'|'ready'|'failed', loaded, total, error, file, xhr, preview}] */
const byRoom = new Map();
let nextKey = 1;

const list = (roomId) => byRoom.get(roomId) ?? [];

/** Draws the tray of the open room (after a room change too). */
export function renderUploads() {
  renderTray(list(store.activeId), { onCancel: cancelUpload });
  document.getElementById('composer')?.classList.toggle('has-files', list(store.activeId).length > 0);
}

function changed() { renderUploads(); }

/** Files picked, dropped or pasted into the open room's composer. */
export function addFiles(fileList) {
  const room = store.activeRoom;
  if (!room) return;
  const max = store.limits?.max_upload_bytes;
  const items = byRoom.get(room.id) ?? [];
  byRoom.set(room.id, items);
  for (const file of fileList) {
    const u = { key: String(nextKey++), name: file.name || 'pasted-image.png', size: file.size, type: file.type, state: 'uploading', loaded: 0, total: file.size, error: null, file: null, xhr: null, preview: null };
    items.push(u);
    if (items.filter((x) => x.state !== 'failed').length > MAX_FILES) {
      fail(u, `Not uploaded: a message takes at most ${MAX_FILES} files.`);
    } else if (max && file.size > max) {
      fail(u, `Not uploaded: ${formatSize(file.size)} is over the ${formatSize(max)} limit.`);
    } else {
      start(room.id, u, file);
    }
  }
  changed();
}

function fail(u, error) {
  u.state = 'failed';
  u.error = error;
}

function start(roomId, u, file) {
  const xhr = new XMLHttpRequest();
  u.xhr = xhr;
  const form = new FormData();
  form.append('file', file, u.name);
  xhr.open('POST', '/api/files');
  xhr.setRequestHeader('Accept', 'application/json, application/problem+json');
  xhr.upload.addEventListener('progress', (e) => {
    if (!e.lengthComputable) return;
    u.loaded = e.loaded;
    u.total = e.total;
    if (store.activeId === roomId) changed();
  });
  xhr.addEventListener('load', () => {
    u.xhr = null;
    let body = null;
    try { body = JSON.parse(xhr.responseText); } catch { body = null; }
    if (xhr.status === 201 && body?.id) {
      u.state = 'ready';
      u.file = body;
      u.size = body.size;
      if (body.thumb_url) u.preview = body.thumb_url;
    } else {
      fail(u, `Not uploaded: ${body?.detail || body?.title || `the server answered ${xhr.status}`}`);
    }
    if (store.activeId === roomId) changed();
  });
  xhr.addEventListener('error', () => {
    u.xhr = null;
    fail(u, 'Not uploaded: the connection failed. Remove it and try again.');
    if (store.activeId === roomId) changed();
  });
  xhr.send(form);
}

/** The × of a chip: aborts an upload in progress, or takes the file off the message. */
export function cancelUpload(key) {
  const items = list(store.activeId);
  const i = items.findIndex((u) => u.key === key);
  if (i < 0) return;
  items[i].xhr?.abort();
  items.splice(i, 1);
  changed();
}

/** True while a file of the open room is still uploading (the message waits for it). */
export const uploading = (roomId) => list(roomId).some((u) => u.state === 'uploading');

/** True when the room's tray holds an uploaded file (a message may then be its files alone). */
export const hasFiles = (roomId) => list(roomId).some((u) => u.state === 'ready');

/** The uploaded files of a room, taken off its tray for the message being sent. */
export function takeFiles(roomId) {
  const items = list(roomId);
  const ready = items.filter((u) => u.state === 'ready').map((u) => u.file);
  byRoom.set(roomId, items.filter((u) => u.state !== 'ready'));
  changed();
  return ready;
}

/** Pasting: image files on the clipboard become uploads (text pastes as usual). */
export function pasted(e) {
  const files = [...(e.clipboardData?.files ?? [])];
  if (!files.length) return;
  e.preventDefault();
  addFiles(files);
}

/** Drag and drop onto the open room. */
export function bindDrop(zone) {
  let depth = 0;
  const hasFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes('Files');
  zone.addEventListener('dragenter', (e) => { if (!hasFiles(e) || !store.activeRoom) return; depth++; zone.classList.add('dropping'); });
  zone.addEventListener('dragleave', () => { if (--depth <= 0) { depth = 0; zone.classList.remove('dropping'); } });
  zone.addEventListener('dragover', (e) => { if (hasFiles(e) && store.activeRoom) e.preventDefault(); });
  zone.addEventListener('drop', (e) => {
    depth = 0;
    zone.classList.remove('dropping');
    if (!hasFiles(e) || !store.activeRoom) return;
    e.preventDefault();
    addFiles([...e.dataTransfer.files]);
  });
}
