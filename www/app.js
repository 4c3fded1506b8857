// SPDX-License-Identifier: BSD-2-Clause
//
// app.js: the entry module of the turnpike web client.  It wires the page
// (index.html) to a Call (call.js), the local media (media.js) and the
// grid, chat and notices (ui.js): the start screen with its preview and
// device pickers, the screens each call state shows, the control buttons.
// It also exposes window.turnpike for tests: state, id, peers(),
// stats(id), restartIce(id), dropSocket().
//
// Not here: protocol or WebRTC logic (call.js), DOM building (ui.js).

import { Call } from './call.js';
import { LocalMedia, LevelMeter } from './media.js';
import { signalingUrl } from './signaling.js';
import { Chat, Grid, notify } from './ui.js';

const ROOM_RE = /^[A-Za-z0-9._-]{1,64}$/;
const NAME_KEY = 'turnpike.name';
const DEVICE_KEY = 'turnpike.devices';

const $ = (id) => document.getElementById(id);
const el = {
  start: $('start'), call: $('call'), left: $('left'),
  preview: $('preview'), previewEmpty: $('preview-empty'), previewEmptyText: $('preview-empty-text'),
  previewMic: $('preview-mic'), previewCam: $('preview-cam'),
  mediaStatus: $('media-status'), cameraSelect: $('camera-select'), micSelect: $('mic-select'),
  form: $('join-form'), name: $('name-input'), room: $('room-input'), roomRandom: $('room-random'),
  startError: $('start-error'), join: $('join-button'),
  roomName: $('room-name'), copyLink: $('copy-link'), status: $('status'),
  grid: $('grid'), tileTemplate: $('tile-template'),
  mute: $('mute-button'), camera: $('camera-button'), screen: $('screen-button'),
  leave: $('leave-button'), notices: $('notices'),
  rejoin: $('rejoin-button'), home: $('home-button'), leftText: $('left-text'),
};

const media = new LocalMedia();
const meter = new LevelMeter();
const call = new Call(media, signalingUrl());
const grid = new Grid(el.grid, el.tileTemplate);
const chat = new Chat({
  panel: $('chat'), log: $('chat-log'), form: $('chat-form'), input: $('chat-input'),
  toggle: $('chat-toggle'), badge: $('chat-unread'), close: $('chat-close'),
});

function notice(text, level = 'info') {
  notify(el.notices, text, level);
}

grid.onSoundBlocked = () => {
  notice('Your browser blocked the sound. Click anywhere on the page to hear the others.', 'warn');
  document.addEventListener('click', () => {
    for (const v of el.grid.querySelectorAll('.tile:not([data-self]) video')) {
      v.muted = false;
      v.play().catch(() => {});
    }
  }, { once: true });
};

// Screens.

function showScreen(name) {
  document.body.dataset.screen = name;
  el.start.hidden = name !== 'start';
  el.call.hidden = name !== 'call';
  el.left.hidden = name !== 'left';
}

// Random room names: easy to read out, hard to guess.
const WORDS_A = ['amber', 'brisk', 'calm', 'clever', 'cosy', 'eager', 'gentle', 'golden',
  'happy', 'jolly', 'lucky', 'mellow', 'merry', 'quiet', 'rapid', 'silver', 'sunny', 'swift', 'tidy', 'witty'];
const WORDS_B = ['badger', 'beacon', 'canyon', 'comet', 'falcon', 'harbor', 'heron', 'island',
  'lantern', 'maple', 'meadow', 'otter', 'panda', 'pebble', 'quartz', 'raven', 'river', 'summit', 'tiger', 'willow'];

function randomRoom() {
  const r = new Uint32Array(3);
  crypto.getRandomValues(r);
  return `${WORDS_A[r[0] % WORDS_A.length]}-${WORDS_B[r[1] % WORDS_B.length]}-${100 + (r[2] % 900)}`;
}

function roomFromHash() {
  let h = location.hash.replace(/^#/, '');
  try {
    h = decodeURIComponent(h);
  } catch {
    return null;
  }
  return ROOM_RE.test(h) ? h : null;
}

function inviteLink() {
  const url = new URL(location.href);
  url.hash = call.room;
  return url.href;
}

// The start screen: preview and devices.

function showPreview() {
  const hasVideo = !!media.cameraTrack;
  const shown = el.preview.srcObject ? el.preview.srcObject.getVideoTracks()[0] : null;
  if (shown !== media.cameraTrack) {
    el.preview.srcObject = hasVideo ? new MediaStream([media.cameraTrack]) : null;
    if (hasVideo)
      el.preview.play().catch(() => {});
  }
  el.previewEmpty.hidden = hasVideo && !media.videoOff;
  el.previewEmptyText.textContent = !hasVideo ? 'No camera' : 'Camera is off';
  el.mediaStatus.textContent = media.status.text;
  el.mediaStatus.dataset.level = media.status.level;
  syncToggle(el.previewMic, media.muted, !media.audioTrack, 'No microphone');
  syncToggle(el.previewCam, media.videoOff, !media.cameraTrack, 'No camera');
}

// A toggle button: pressed means muted/off.  Its name stays the same;
// aria-pressed says the state (a changing name would say it twice).
function syncToggle(button, pressed, disabled, unavailable) {
  button.setAttribute('aria-pressed', String(pressed || disabled));
  button.disabled = disabled;
  button.title = disabled ? unavailable : (button.getAttribute('aria-label') || '');
}

function fillSelect(select, list, current, noun) {
  select.replaceChildren();
  if (list.length === 0) {
    const opt = document.createElement('option');
    opt.value = '';
    opt.textContent = `No ${noun}`;
    select.append(opt);
    select.disabled = true;
    return;
  }
  select.disabled = false;
  list.forEach((d, i) => {
    const opt = document.createElement('option');
    opt.value = d.deviceId;
    opt.textContent = d.label || `${noun[0].toUpperCase()}${noun.slice(1)} ${i + 1}`;
    select.append(opt);
  });
  if (current && list.some((d) => d.deviceId === current))
    select.value = current;
}

async function refreshDevices() {
  const { cameras, mics } = await media.devices();
  fillSelect(el.cameraSelect, cameras, media.deviceId('video'), 'camera');
  fillSelect(el.micSelect, mics, media.deviceId('audio'), 'microphone');
}

function savedDevices() {
  try {
    return JSON.parse(localStorage.getItem(DEVICE_KEY)) || {};
  } catch {
    return {};
  }
}

async function acquire(prefs) {
  el.mediaStatus.textContent = 'Starting camera and microphone…';
  await media.acquire(prefs);
  showPreview();
  await refreshDevices();
  if (call.state === 'in-call' || call.state === 'reconnecting')
    showSelf();
}

async function onDeviceChosen() {
  const prefs = { audioId: el.micSelect.value || null, videoId: el.cameraSelect.value || null };
  try {
    localStorage.setItem(DEVICE_KEY, JSON.stringify(prefs));
  } catch { /* private mode */ }
  await acquire(prefs);
}

// The call screen.

function showSelf() {
  grid.tile('self', { self: true, name: call.name });
  grid.setPeerId('self', call.selfId);
  grid.setStream('self', media.stream, { mirror: !media.screenTrack });
  grid.setState('self', call.localState());
  meter.watch('self', media.audioTrack, (s) => grid.setSpeaking('self', s));
  syncControls();
}

// The call's toggle buttons: pressed is muted, camera off, sharing.
function syncControls() {
  syncToggle(el.mute, media.muted, !media.audioTrack, 'No microphone');
  el.mute.title = !media.audioTrack ? 'No microphone' : media.muted ? 'Microphone is muted' : 'Mute the microphone';
  syncToggle(el.camera, media.videoOff, !media.cameraTrack, 'No camera');
  el.camera.title = !media.cameraTrack ? 'No camera' : media.videoOff ? 'Camera is off' : 'Turn the camera off';
  const canShare = !!(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia);
  syncToggle(el.screen, !!media.screenTrack, !canShare, 'Screen sharing is not available here');
  if (canShare)
    el.screen.title = media.screenTrack ? 'Stop sharing the screen' : 'Share a screen or window';
}

const STATUS_TEXT = {
  'idle': 'Not connected',
  'joining': 'Joining…',
  'in-call': 'Connected',
  'reconnecting': 'Reconnecting…',
  'left': 'Left the call',
};

function updateStatus() {
  let text = STATUS_TEXT[call.state];
  if (call.state === 'in-call') {
    const n = call.peers.size + 1;
    text = n === 1 ? 'Connected · waiting for others' : `Connected · ${n} people`;
  }
  el.status.textContent = text;
  el.status.dataset.state = call.state;
}

function showPeer(peer) {
  grid.tile(peer.id, { name: peer.name });
  grid.setPeerId(peer.id, peer.id);
  grid.setName(peer.id, peer.name);
  grid.setConnection(peer.id, peer.connectionState);
  grid.setState(peer.id, peer.remote);
  if (peer.stream.getTracks().length)
    grid.setStream(peer.id, peer.stream);
}

call.addEventListener('state', ({ detail }) => {
  const { state, prev, message } = detail;
  updateStatus();
  switch (state) {
  case 'joining':
    el.join.disabled = true;
    el.join.textContent = 'Joining…';
    el.startError.hidden = true;
    break;
  case 'in-call':
    el.join.disabled = false;
    el.join.textContent = 'Join room';
    if (prev === 'joining') {
      chat.clear();
      chat.notice(`You joined ${call.room}`);
      if (window.matchMedia('(min-width: 60rem)').matches)
        chat.setOpen(true, { focus: false });
    }
    el.roomName.textContent = call.room;
    document.title = `${call.room} · turnpike`;
    showScreen('call');
    showSelf();
    if (prev === 'joining') // the join button is gone: focus the controls
      (el.mute.disabled ? el.leave : el.mute).focus({ preventScroll: true });
    break;
  case 'idle':
    grid.clear();
    meter.unwatch('self');
    el.join.disabled = false;
    el.join.textContent = 'Join room';
    document.title = 'turnpike';
    showScreen('start');
    showPreview();
    if (message) {
      el.startError.textContent = message;
      el.startError.hidden = false;
      el.room.focus();
    }
    break;
  case 'left':
    grid.clear();
    meter.unwatch('self');
    media.stopScreen();
    document.title = 'turnpike';
    el.leftText.textContent = `You left ${call.room}.`;
    showScreen('left');
    el.rejoin.focus();
    break;
  default:
    break;
  }
});

call.addEventListener('peer-added', ({ detail: peer }) => {
  showPeer(peer);
  updateStatus();
});
call.addEventListener('peer-updated', ({ detail: peer }) => showPeer(peer));
call.addEventListener('peer-media', ({ detail: peer }) => {
  grid.setStream(peer.id, peer.stream);
  const audio = peer.stream.getAudioTracks()[0];
  if (audio)
    meter.watch(peer.id, audio, (s) => grid.setSpeaking(peer.id, s));
});
call.addEventListener('peer-removed', ({ detail: { peer } }) => {
  meter.unwatch(peer.id);
  grid.remove(peer.id);
  updateStatus();
});
call.addEventListener('chat', ({ detail }) => chat.add(detail));
call.addEventListener('notice', ({ detail }) => {
  if (detail.chat)
    chat.notice(detail.text);
  notice(detail.text, detail.level);
});
call.addEventListener('retry', ({ detail }) => {
  if (detail.attempt > 1)
    el.status.textContent = `Reconnecting… (attempt ${detail.attempt})`;
});

media.addEventListener('change', () => {
  if (call.state === 'in-call' || call.state === 'reconnecting')
    showSelf();
});

// Start screen events.

el.roomRandom.addEventListener('click', () => {
  el.room.value = randomRoom();
  el.room.focus();
});

el.previewMic.addEventListener('click', () => {
  media.setMuted(!media.muted);
  showPreview();
});
el.previewCam.addEventListener('click', () => {
  media.setVideoOff(!media.videoOff);
  showPreview();
});
el.cameraSelect.addEventListener('change', onDeviceChosen);
el.micSelect.addEventListener('change', onDeviceChosen);
if (navigator.mediaDevices && navigator.mediaDevices.addEventListener)
  navigator.mediaDevices.addEventListener('devicechange', () => refreshDevices());

function formError(text, field) {
  el.startError.textContent = text;
  el.startError.hidden = false;
  if (field) {
    field.setAttribute('aria-invalid', 'true');
    field.focus();
  }
}

el.form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  el.room.removeAttribute('aria-invalid');
  el.name.removeAttribute('aria-invalid');
  const room = el.room.value.trim();
  const name = el.name.value.trim();
  if (!ROOM_RE.test(room)) {
    formError('Enter a room name of 1 to 64 letters, digits, dots, dashes or underscores.', el.room);
    return;
  }
  if ([...name].length > 64) {
    formError('Names are at most 64 characters.', el.name);
    return;
  }
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch { /* private mode */ }
  history.replaceState(null, '', `${location.pathname}${location.search}#${room}`);
  meter.start(); // inside the click: the audio context may run
  const token = new URLSearchParams(location.search).get('token');
  call.join({ room, name, token });
});

// Call screen events.

el.mute.addEventListener('click', () => media.setMuted(!media.muted));
el.camera.addEventListener('click', () => media.setVideoOff(!media.videoOff));
el.screen.addEventListener('click', async () => {
  if (media.screenTrack) {
    media.stopScreen();
    return;
  }
  try {
    await media.startScreen();
  } catch (e) {
    notice(`Screen sharing failed: ${e.message}`, 'warn');
  }
});
el.leave.addEventListener('click', () => call.leave());
el.copyLink.addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText(inviteLink());
    notice('Invitation link copied.');
  } catch {
    notice(`Share this link: ${inviteLink()}`);
  }
});
el.rejoin.addEventListener('click', () => {
  meter.start();
  call.join({ room: call.room, name: call.name, token: call.token });
});
el.home.addEventListener('click', () => {
  showScreen('start');
  el.join.focus();
});

chat.onSend = (text) => call.sendChat(text);

window.addEventListener('pagehide', () => {
  if (call.state !== 'idle' && call.state !== 'left')
    call.leave();
});
window.addEventListener('hashchange', () => {
  const room = roomFromHash();
  if (room && call.state !== 'in-call' && call.state !== 'reconnecting')
    el.room.value = room;
});

// For tests and the curious: the call as data.
window.turnpike = Object.freeze({
  get state() {
    return call.state;
  },
  get id() {
    return call.selfId;
  },
  peers() {
    return [...call.peers.values()].map((p) => ({
      id: p.id, name: p.name, connectionState: p.connectionState, ...p.remote,
    }));
  },
  async stats(peerId) {
    const peer = call.peers.get(peerId);
    return peer ? peer.stats() : null;
  },
  // What a failed connection does: restart ICE (on the offering side).
  restartIce(peerId) {
    const peer = call.peers.get(peerId);
    return peer ? peer.restartIce() : false;
  },
  dropSocket() {
    call.dropSocket();
  },
});

// Start.

function init() {
  let name = '';
  try {
    name = localStorage.getItem(NAME_KEY) || '';
  } catch { /* private mode */ }
  el.name.value = name;
  el.room.value = roomFromHash() || randomRoom();
  showScreen('start');
  syncControls();
  (name ? el.join : el.name).focus({ preventScroll: true });
  acquire(savedDevices());
}

init();
