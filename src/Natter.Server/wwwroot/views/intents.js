// What a click inside rendered content asks for. The views only name the intent; app.js binds each
// one to an action at start, so views never import actions.

const bound = {};

/** @param {{openRoom, startDirect, retry, discard, joinRoom}} handlers */
export function bindIntents(handlers) { Object.assign(bound, handlers); }

export const intents = {
  openRoom: (id) => bound.openRoom?.(id),
  startDirect: (username) => bound.startDirect?.(username),
  retry: (clientId) => bound.retry?.(clientId),
  discard: (clientId) => bound.discard?.(clientId),
  joinRoom: (room) => bound.joinRoom?.(room),
  edit: (room, seq, text) => bound.edit?.(room, seq, text),
  remove: (room, seq) => bound.remove?.(room, seq),
  react: (room, seq, emoji, on) => bound.react?.(room, seq, emoji, on),
  copyLink: (room, seq) => bound.copyLink?.(room, seq),
  reply: (m) => bound.reply?.(m),
  cancelReply: () => bound.cancelReply?.(),
  jumpTo: (room, seq) => bound.jumpTo?.(room, seq),
  /** The original of a reply when it is not among the loaded messages: fetched once, then the quotes are redrawn. */
  quoted: (room, seq) => bound.quoted?.(room, seq),
  /** The room header was drawn (the direct room's Block button and the peer's display name follow it). */
  headerDrawn: () => bound.headerDrawn?.(),
};
