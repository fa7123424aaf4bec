// Message formatting: links (http and https only), `code`, ```code blocks```, *bold*, _italic_, ~strike~,
// > quotes and @mentions, built as DOM nodes (never HTML). One left-to-right pass over the text with
// precomputed "next delimiter" positions and a stack of open emphasis: time is linear in the text's length
// whatever it holds, so no message can stall the page. What does not pair up stays as it was typed.

import { h } from './dom.js';

const EMPHASIS = { '*': 'strong', _: 'em', '~': 's' };
const LINK_END = /[\s<>"]/u;
const TRAILING = new Set(['.', ',', ';', ':', '!', '?', ')', ']', '}', "'", '"']);
const NAME_CHAR = /[\p{L}\p{N}_.-]/u;

const isSpace = (c) => c === undefined || /\s/u.test(c);
const isWordChar = (c) => c !== undefined && /[\p{L}\p{N}]/u.test(c);

/**
 * The nodes of a message's text: a DocumentFragment whose textContent is the text minus the markup that
 * paired up. `me` marks mentions of the reader.
 */
export function formatText(text, me = null) {
  const out = document.createDocumentFragment();
  const s = String(text ?? '');
  // Code blocks first: ``` … ``` pair up left to right; an empty pair, or a last one without a partner, is text.
  const next = nextIndexes(s, (i) => s.startsWith('```', i));
  let at = 0;
  let i = next[0];
  while (i < s.length) {
    const j = next[i + 3] ?? s.length;
    if (j >= s.length) break;
    const body = s.slice(i + 3, j).replace(/^\n/, '').replace(/\n$/, '');
    if (!body.trim()) { i = next[i + 1]; continue; }
    appendLines(out, s.slice(at, i).replace(/\n$/, ''), me);
    out.append(h('pre', { className: 'code-block' }, h('code', { text: body })));
    at = j + 3;
    if (s[at] === '\n' || s[at] === ' ') at++;
    i = next[at] ?? s.length;
  }
  appendLines(out, s.slice(at), me);
  return out;
}

/** next[k] = the first index ≥ k where `test` holds (s.length when none); one pass from the end. */
function nextIndexes(s, test) {
  const next = new Array(s.length + 2);
  next[s.length] = next[s.length + 1] = s.length;
  for (let k = s.length - 1; k >= 0; k--) next[k] = test(k) ? k : next[k + 1];
  return next;
}

/** Lines outside code blocks: runs of lines starting with ">" become one quote; the rest is inline text. */
function appendLines(out, s, me) {
  if (!s) return;
  const lines = s.split('\n');
  let quote = null;
  lines.forEach((line, n) => {
    const last = n === lines.length - 1;
    const q = /^>\s?/u.exec(line);
    if (q) {
      if (!quote) { quote = h('blockquote', { className: 'quote-block' }); out.append(quote); } else quote.append('\n');
      appendInline(quote, line.slice(q[0].length), me);
      return;
    }
    quote = null;
    appendInline(out, line, me);
    if (!last) out.append('\n');
  });
}

/** One line: `code`, links, @mentions and emphasis, which opens and closes inside the line. */
function appendInline(parent, s, me) {
  const ticks = nextIndexes(s, (k) => s[k] === '`');
  const stops = nextIndexes(s, (k) => LINK_END.test(s[k]));
  // Nodes of the line so far: {t:'text'|'el'|'open', v}. `stack` holds the open emphasis markers (their
  // index in `nodes`); `tops` the stack positions of each marker kind, so a closer finds its opener at once.
  const nodes = [];
  const stack = [];
  const tops = { '*': [], _: [], '~': [] };
  let text = '';
  const flush = () => { if (text) { nodes.push({ t: 'text', v: text }); text = ''; } };

  let i = 0;
  while (i < s.length) {
    const c = s[i];
    const prev = s[i - 1];
    if (c === '`') {
      const j = ticks[i + 1];
      if (j < s.length && s.slice(i + 1, j).trim()) {
        flush();
        nodes.push({ t: 'el', v: h('code', { className: 'code', text: s.slice(i + 1, j) }) });
        i = j + 1;
        continue;
      }
    } else if ((c === 'h' || c === 'H') && !isWordChar(prev) && /^https?:\/{2}/iu.test(s.slice(i, i + 8))) {
      // Up to the next space or < > ": a link when the URL parser agrees, else text, and never looked at again.
      const end = stops[i];
      const link = linkAt(s.slice(i, end));
      flush();
      if (link) {
        nodes.push({ t: 'el', v: link.node });
        i += link.length;
      } else {
        nodes.push({ t: 'text', v: s.slice(i, end) });
        i = end;
      }
      continue;
    } else if (c === '@' && !isWordChar(prev) && NAME_CHAR.test(s[i + 1] ?? '')) {
      let j = i + 1;
      while (j < s.length && NAME_CHAR.test(s[j])) j++;
      while (j > i + 1 && (s[j - 1] === '.' || s[j - 1] === '-')) j--;
      if (j > i + 1) {
        const name = s.slice(i + 1, j);
        flush();
        nodes.push({ t: 'el', v: h('span', { className: `mention${me && name.toLowerCase() === me ? ' mention-me' : ''}`, text: `@${name}` }) });
        i = j;
        continue;
      }
    } else if (EMPHASIS[c] && prev !== c && s[i + 1] !== c) {
      // (A run such as "__init__" or "**" is text: only single markers format.)
      const next = s[i + 1];
      const mine = tops[c];
      // A closer follows text, is not followed by a letter or digit, and closes the newest opener of its kind
      // when something lies between them; openers above that one never closed and are text again.
      const open = mine.length ? mine[mine.length - 1] : -1;
      if (open >= 0 && !isSpace(prev) && !isWordChar(next) && (flush(), nodes.length > stack[open] + 1)) {
        const at = stack[open];
        for (const k of Object.keys(tops)) while (tops[k].length && tops[k][tops[k].length - 1] >= open) tops[k].pop();
        stack.length = open;
        const inner = nodes.splice(at);
        const el = h(EMPHASIS[c]);
        for (const x of inner.slice(1)) el.append(x.v);
        nodes.push({ t: 'el', v: el });
        i++;
        continue;
      }
      // An opener starts a word: not after a letter or digit, and followed by something other than a space.
      if (!isWordChar(prev) && !isSpace(next)) {
        flush();
        tops[c].push(stack.length);
        stack.push(nodes.length);
        nodes.push({ t: 'open', v: c });
        i++;
        continue;
      }
    }
    text += c;
    i++;
  }
  flush();
  for (const x of nodes) parent.append(x.v);
}

/** The link in a candidate that starts with http:// or https://: trailing punctuation belongs to the sentence
 * (except a ")" closing a "(" inside the link); the URL parser has the last word. */
function linkAt(candidate) {
  let opens = 0;
  let closes = 0;
  for (const ch of candidate) { if (ch === '(') opens++; else if (ch === ')') closes++; }
  let j = candidate.length;
  while (j > 0 && TRAILING.has(candidate[j - 1])) {
    if (candidate[j - 1] === ')') { if (closes <= opens) break; closes--; }
    j--;
  }
  const raw = candidate.slice(0, j);
  let url;
  try { url = new URL(raw); } catch { return null; }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname || raw.length <= url.protocol.length + 2) return null;
  const node = h('a', { text: raw, attrs: { href: url.href, target: '_blank', rel: 'noopener noreferrer' } });
  return { node, length: raw.length };
}

/** Puts a message's formatted text into `body`, unless it already shows that text. */
export function setFormatted(body, text, me) {
  if (body.formatted === text) return;
  body.formatted = text;
  body.replaceChildren(formatText(text, me));
}
