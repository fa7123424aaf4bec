// Files on messages and in the composer: image thumbnails that open full size in a lightbox, cards for other
// files (name, size, type) that download, and the tray of uploads above the message box with progress and cancel.
// File names are user text: shown through textContent and attributes only.

import { h } from './dom.js';

/** 1536 → "1.5 KB": sizes as people read them. */
export function formatSize(bytes) {
  if (!Number.isFinite(bytes) || bytes < 1024) return `${bytes | 0} B`;
  const units = ['KB', 'MB', 'GB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** A short type label for a card: "PDF", "ZIP", "TEXT" (from the name's extension, else the content type). */
function typeLabel(f) {
  const dot = f.name.lastIndexOf('.');
  if (dot > 0 && dot > f.name.length - 8) return f.name.slice(dot + 1).toUpperCase();
  const sub = String(f.content_type || '').split('/')[1] || 'file';
  return sub.split(/[+.;-]/)[0].toUpperCase().slice(0, 6);
}

/** Only URLs of this server's file API are used as links or image sources. */
const safeUrl = (u) => (typeof u === 'string' && /^\/api\/files\/[A-Za-z0-9_-]+(\/thumb)?$/.test(u) ? u : null);

function imageNode(f) {
  const thumb = safeUrl(f.thumb_url);
  const full = safeUrl(f.url);
  const img = h('img', { attrs: { src: thumb, alt: f.name, loading: 'lazy', decoding: 'async' } });
  return h('a', {
    className: 'file-image',
    attrs: { href: full, target: '_blank', rel: 'noopener', title: `${f.name} (${formatSize(f.size)})`, 'aria-label': `Image ${f.name}, open full size` },
    on: { click: (e) => { if (e.button === 0 && !e.ctrlKey && !e.metaKey && !e.shiftKey) { e.preventDefault(); openLightbox(f); } } },
  }, img);
}

function cardNode(f) {
  return h('a', {
    className: 'file-card',
    attrs: { href: safeUrl(f.url), download: f.name, title: `Download ${f.name}`, 'aria-label': `Download ${f.name}, ${formatSize(f.size)}` },
  },
  h('span', { className: 'file-icon', text: typeLabel(f), attrs: { 'aria-hidden': 'true' } }),
  h('span', { className: 'file-info' },
    h('span', { className: 'file-name', text: f.name, attrs: { dir: 'auto' } }),
    h('span', { className: 'file-meta', text: `${formatSize(f.size)} · ${f.content_type}` })),
  h('span', { className: 'file-download', text: '↓', attrs: { 'aria-hidden': 'true' } }));
}

/** Fills (or hides) the files of a stored message's bubble, after its text. */
export function renderFiles(n, m) {
  const files = m.deleted || !Array.isArray(m.files) ? [] : m.files.filter((f) => f && safeUrl(f.url));
  let box = n.querySelector('.files');
  const key = files.map((f) => f.id).join(',');
  if (!files.length) { box?.remove(); return; }
  if (box?.dataset.files === key) return;
  if (!box) {
    box = h('div', { className: 'files' });
    n.querySelector('.text').after(box);
  }
  box.dataset.files = key;
  box.replaceChildren(...files.map((f) => (safeUrl(f.thumb_url) ? imageNode(f) : cardNode(f))));
}

/** The full image over the page; Escape, the close button or a click outside closes it. */
export function openLightbox(f) {
  let dlg = document.getElementById('lightbox');
  if (!dlg) {
    dlg = h('dialog', { className: 'lightbox', attrs: { id: 'lightbox', 'aria-label': 'Image' } },
      h('img', { attrs: { alt: '' } }),
      h('div', { className: 'lightbox-bar' },
        h('span', { className: 'lightbox-name', attrs: { dir: 'auto' } }),
        h('a', { className: 'btn link', text: 'Open original', attrs: { target: '_blank', rel: 'noopener' } }),
        h('button', { className: 'btn secondary small', text: 'Close', attrs: { type: 'button' }, on: { click: () => dlg.close() } })));
    dlg.addEventListener('click', (e) => { if (e.target === dlg) dlg.close(); });
    document.body.append(dlg);
  }
  dlg.querySelector('img').src = safeUrl(f.url);
  dlg.querySelector('img').alt = f.name;
  dlg.querySelector('.lightbox-name').textContent = f.name;
  dlg.querySelector('a').href = safeUrl(f.url);
  dlg.showModal();
}

/**
 * The uploads of the composer: one chip per file with its name, size, a progress bar while it uploads, the
 * reason when it was refused, and a button that cancels (or removes) it.
 */
export function renderTray(uploads, { onCancel }) {
  const composer = document.getElementById('composer');
  let tray = document.getElementById('upload-tray');
  if (!uploads.length) { tray?.remove(); return; }
  if (!tray) {
    tray = h('ul', { className: 'upload-tray', attrs: { id: 'upload-tray', 'aria-label': 'Attachments' } });
    composer.before(tray);
  }
  tray.replaceChildren(...uploads.map((u) => {
    const pct = u.total ? Math.round((100 * u.loaded) / u.total) : 0;
    const label = u.state === 'uploading' ? `Uploading ${pct}%` : u.state === 'failed' ? u.error : formatSize(u.size);
    return h('li', { className: `upload ${u.state}`, dataset: { upload: u.key } },
      u.preview ? h('img', { className: 'upload-preview', attrs: { src: u.preview, alt: '' } }) : h('span', { className: 'file-icon', text: typeLabel({ name: u.name, content_type: u.type }), attrs: { 'aria-hidden': 'true' } }),
      h('span', { className: 'upload-info' },
        h('span', { className: 'file-name', text: u.name, attrs: { dir: 'auto' } }),
        h('span', { className: 'upload-status', text: label, attrs: u.state === 'failed' ? { role: 'alert' } : {} }),
        u.state === 'uploading' ? h('progress', { attrs: { max: '100', value: String(pct), 'aria-label': `Uploading ${u.name}` } }) : null),
      h('button', {
        className: 'btn icon upload-cancel', text: '×',
        attrs: { type: 'button', 'aria-label': u.state === 'uploading' ? `Cancel upload of ${u.name}` : `Remove ${u.name}` },
        on: { click: () => onCancel(u.key) },
      }));
  }));
}
