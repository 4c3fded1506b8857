// SPDX-License-Identifier: BSD-2-Clause
//
// ui.js: the parts of the page that change during a call: the video grid
// and its tiles, the chat panel, the notices and the status line.
//
// Every text that came from someone else (names, chat) goes in with
// textContent, never as HTML: links stay text, markup stays text.
//
// Not here: the call's logic (call.js) or which event changes what
// (app.js).

const CONNECTION_TEXT = {
  'new': 'Connecting…',
  'connecting': 'Connecting…',
  'connected': '',
  'disconnected': 'Connection unstable…',
  'failed': 'Connection failed',
  'closed': '',
  'reconnecting': 'Reconnecting…',
};

// Play a media element, quietly: a play() that an autoplay policy
// refuses is retried muted (onBlocked is then told), one that a newer
// load interrupted is not an error.
export function playMedia(el, onBlocked) {
  const p = el.play();
  if (!p)
    return;
  p.catch((e) => {
    if (e.name === 'NotAllowedError' && !el.muted) {
      el.muted = true;
      el.play().catch(() => {});
      if (onBlocked)
        onBlocked(el);
    }
  });
}

// The first letter of a name, for the avatar.
function initial(name) {
  const s = (name || '?').trim();
  return s ? [...s][0].toUpperCase() : '?';
}

// The tiles of a call, one per participant (the own one first), keyed by
// the caller's key ("self" or a peer id).
export class Grid {
  constructor(el, template) {
    this.el = el;
    this.template = template;
    this.tiles = new Map();
    this.onSoundBlocked = null;
  }

  // The tile for key, made if new.  opts: {self, name}.
  tile(key, { self = false, name = '' } = {}) {
    let tile = this.tiles.get(key);
    if (tile)
      return tile;
    tile = this.template.content.firstElementChild.cloneNode(true);
    tile.dataset.key = key;
    if (self) {
      tile.dataset.self = 'true';
      const video = tile.querySelector('video');
      video.muted = true; // never hear ourselves
    }
    tile.dataset.video = 'on';
    tile.dataset.connection = self ? 'connected' : 'new';
    this.tiles.set(key, tile);
    if (self)
      this.el.prepend(tile);
    else
      this.el.append(tile);
    this.setName(key, name, self);
    this.setConnection(key, self ? 'connected' : 'new');
    this.updateCount();
    return tile;
  }

  has(key) {
    return this.tiles.has(key);
  }

  remove(key) {
    const tile = this.tiles.get(key);
    if (!tile)
      return;
    const video = tile.querySelector('video');
    video.srcObject = null;
    tile.remove();
    this.tiles.delete(key);
    this.updateCount();
  }

  clear() {
    for (const key of [...this.tiles.keys()])
      this.remove(key);
  }

  updateCount() {
    this.el.dataset.count = String(this.tiles.size);
  }

  setPeerId(key, id) {
    const tile = this.tiles.get(key);
    if (tile && id)
      tile.dataset.peerId = id;
  }

  setName(key, name, self = false) {
    const tile = this.tiles.get(key);
    if (!tile)
      return;
    const label = (name || (self ? 'You' : 'Guest')) + (self && name ? ' (you)' : '');
    tile.querySelector('.tile-name').textContent = label;
    tile.querySelector('.avatar span').textContent = initial(name || (self ? 'You' : 'Guest'));
    tile.setAttribute('aria-label', self ? `${label}, your video` : `${label}'s video`);
  }

  // Show stream in the tile (the same stream again is left playing).
  setStream(key, stream, { mirror = false } = {}) {
    const tile = this.tiles.get(key);
    if (!tile)
      return;
    const video = tile.querySelector('video');
    tile.classList.toggle('mirror', mirror);
    if (video.srcObject !== stream) {
      video.srcObject = stream;
      if (stream)
        playMedia(video, this.onSoundBlocked);
    } else if (stream && video.paused) {
      playMedia(video, this.onSoundBlocked);
    }
  }

  // muted, video, screen: the participant's own state.
  setState(key, { muted, video, screen }) {
    const tile = this.tiles.get(key);
    if (!tile)
      return;
    if (typeof muted === 'boolean') {
      // An SVG element: no .hidden property, the attribute it is.
      tile.querySelector('.muted-mark').toggleAttribute('hidden', !muted);
      tile.dataset.muted = String(muted);
    }
    if (typeof video === 'boolean')
      tile.dataset.video = video ? 'on' : 'off';
    if (typeof screen === 'boolean') {
      tile.dataset.screen = String(screen);
      tile.querySelector('.tile-screen').hidden = !screen;
    }
  }

  setConnection(key, state) {
    const tile = this.tiles.get(key);
    if (!tile)
      return;
    tile.dataset.connection = state;
    const text = CONNECTION_TEXT[state] ?? state;
    const badge = tile.querySelector('.tile-state');
    badge.textContent = text;
    badge.hidden = !text;
  }

  setSpeaking(key, speaking) {
    const tile = this.tiles.get(key);
    if (tile)
      tile.classList.toggle('speaking', speaking);
  }
}

// The chat panel: messages, join and leave lines, the unread count while
// it is closed.
export class Chat {
  constructor({ panel, log, form, input, toggle, badge, close }) {
    Object.assign(this, { panel, log, form, input, toggle, badge, closeButton: close });
    this.unread = 0;
    this.onSend = null;
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const text = input.value.trim();
      if (text && this.onSend && this.onSend(text))
        input.value = '';
      input.focus();
    });
    toggle.addEventListener('click', () => this.setOpen(this.panel.hidden));
    close.addEventListener('click', () => {
      this.setOpen(false);
      toggle.focus();
    });
    panel.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && window.matchMedia('(max-width: 60rem)').matches) {
        this.setOpen(false);
        toggle.focus();
      }
    });
  }

  get open() {
    return !this.panel.hidden;
  }

  // Show or hide the panel; shown on request, it takes the focus.
  setOpen(open, { focus = true } = {}) {
    this.panel.hidden = !open;
    this.toggle.setAttribute('aria-pressed', String(open));
    if (open) {
      this.unread = 0;
      this.updateBadge();
      this.scrollToEnd(true);
      if (focus)
        this.input.focus({ preventScroll: true });
    }
  }

  updateBadge() {
    this.badge.textContent = String(this.unread);
    this.badge.hidden = this.unread === 0;
    this.toggle.setAttribute('aria-label',
      this.unread ? `Chat, ${this.unread} unread` : 'Chat');
  }

  scrollToEnd(force) {
    const log = this.log;
    const near = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    if (force || near)
      log.scrollTop = log.scrollHeight;
  }

  // A message: {name, text, ts, self}.  Text only, never HTML.
  add({ name, text, ts, self }) {
    const li = document.createElement('li');
    li.className = self ? 'msg self' : 'msg';
    li.dataset.testid = 'chat-message';
    const meta = document.createElement('div');
    meta.className = 'meta';
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = self ? 'You' : (name || 'Guest');
    const when = document.createElement('time');
    const date = new Date(ts);
    when.dateTime = date.toISOString();
    when.textContent = date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    meta.append(who, when);
    const body = document.createElement('p');
    body.className = 'text';
    body.textContent = text;
    li.append(meta, body);
    this.append(li, !self);
  }

  // A line about the call (someone joined or left).
  notice(text) {
    const li = document.createElement('li');
    li.className = 'system';
    li.dataset.testid = 'chat-notice';
    li.textContent = text;
    this.append(li, false);
  }

  append(li, countUnread) {
    this.log.append(li);
    while (this.log.children.length > 500)
      this.log.firstElementChild.remove();
    if (!this.open && countUnread) {
      this.unread++;
      this.updateBadge();
    }
    this.scrollToEnd(false);
  }

  clear() {
    this.log.replaceChildren();
    this.unread = 0;
    this.updateBadge();
  }
}

// A notice at the top of the page; info ones go away by themselves.
export function notify(container, text, level = 'info', timeoutMs = 6000) {
  const el = document.createElement('div');
  el.className = 'notice';
  el.dataset.testid = 'notice';
  el.dataset.level = level;
  el.setAttribute('role', level === 'error' ? 'alert' : 'status');
  const p = document.createElement('p');
  p.textContent = text;
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'notice-close';
  close.setAttribute('aria-label', 'Dismiss');
  close.textContent = '×';
  close.addEventListener('click', () => el.remove());
  el.append(p, close);
  container.append(el);
  while (container.children.length > 4)
    container.firstElementChild.remove();
  if (level !== 'error' && timeoutMs > 0)
    setTimeout(() => el.remove(), timeoutMs);
  return el;
}
