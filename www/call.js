// SPDX-License-Identifier: BSD-2-Clause
//
// call.js: one call, from join to leave: the call state machine, the
// signaling conversation, and an RTCPeerConnection per remote peer.
//
// The state machine is written down once, in TRANSITIONS below, and only
// Call.transition() changes Call.state.  The newcomer in a room offers to
// every peer its welcome lists; the peers already there answer.  Offers
// and answers follow the "perfect negotiation" pattern (the offerer is
// the impolite side), so a later renegotiation (screen sharing without a
// camera, an ICE restart) works from either side.  Candidates trickle,
// and a null candidate says end-of-candidates.
//
// Not here: the DOM (ui.js, app.js), getUserMedia (media.js), the socket
// and its pacing (signaling.js).  The page learns what happens through
// events on the Call (see the list above class Call).

import { Signaling } from './signaling.js';

// The call state machine.  state -> event -> next state; an event not
// listed for a state is ignored.
//
//   idle          nothing going on (first load, or after a failed join)
//   joining       the first connection to the server and its join
//   in-call       welcomed into the room: peers are connected or connecting
//   reconnecting  the socket dropped during the call; retrying with
//                 backoff, then joining again (with a new id)
//   left          the user left; the call may be joined again
//
// Events: join (the user), welcome (the server took our join), lost (the
// socket closed during the call), fail (the join was refused, or the
// server could not be reached at the first try), leave (the user).
export const TRANSITIONS = Object.freeze({
  'idle':         { join: 'joining' },
  'joining':      { welcome: 'in-call', fail: 'idle', leave: 'left' },
  'in-call':      { lost: 'reconnecting', fail: 'idle', leave: 'left' },
  'reconnecting': { welcome: 'in-call', fail: 'idle', leave: 'left' },
  'left':         { join: 'joining' },
});

// Waits before reconnect attempts, in ms (the last repeats), +-20%.
const BACKOFF_MS = [250, 1000, 2000, 4000, 8000, 15000];

// Server error codes that end a join, and what the user is told.
const FATAL_ERRORS = {
  'room-full': 'This room is full. Try again later, or pick another room.',
  'forbidden': 'This room needs an invitation. Open the link you were given (it carries ?token=…) or ask for a new one.',
  'bad-room': 'That room name cannot be used: use 1 to 64 letters, digits, dots, dashes or underscores.',
  'bad-message': 'The server refused the join (is the name longer than 64 characters?).',
};

// One remote peer and our RTCPeerConnection to it.  The Peer outlives its
// connection across a reconnect: open() makes a fresh one.
class Peer {
  constructor(call, id, name, state) {
    this.call = call;
    this.id = id;
    this.name = name || '';
    this.remote = { muted: false, video: true, screen: false, ...(state || {}) };
    this.pc = null;
    this.stream = new MediaStream();
    this.connectionState = 'new';
  }

  // A fresh RTCPeerConnection (the old one is closed).  The offerer adds
  // its transceivers at once, which starts negotiation.
  open(offerer) {
    this.close();
    this.offerer = offerer;
    this.polite = !offerer;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.pending = [];          // candidates that came before the description
    this.chain = Promise.resolve();
    this.audioTx = this.videoTx = null;
    this.stream = new MediaStream();
    this.connectionState = 'connecting';

    const pc = new RTCPeerConnection(this.call.rtcConfig());
    this.pc = pc;
    pc.addEventListener('negotiationneeded', () => {
      this.enqueue(() => this.negotiate());
    });
    pc.addEventListener('icecandidate', ({ candidate }) => {
      if (this.pc !== pc)
        return;
      if (candidate && !candidate.candidate)
        return; // an empty candidate: the null one follows
      this.call.signal({
        type: 'candidate', to: this.id,
        candidate: candidate ? candidate.toJSON() : null,
      });
    });
    pc.addEventListener('track', ({ track }) => {
      if (this.pc !== pc)
        return;
      for (const old of this.stream.getTracks())
        if (old.kind === track.kind && old !== track)
          this.stream.removeTrack(old);
      this.stream.addTrack(track);
      this.call.emit('peer-media', this);
    });
    pc.addEventListener('connectionstatechange', () => {
      if (this.pc !== pc)
        return;
      this.connectionState = pc.connectionState;
      if (pc.connectionState === 'failed' && this.restartIce())
        this.call.emit('notice', { level: 'warn', text: `The connection to ${this.label} failed; trying again…` });
      this.call.emit('peer-updated', this);
    });
    if (offerer) {
      const { audioTrack, videoTrack } = this.call.media;
      this.audioTx = pc.addTransceiver(audioTrack || 'audio',
        { direction: audioTrack ? 'sendrecv' : 'recvonly' });
      this.videoTx = pc.addTransceiver(videoTrack || 'video',
        { direction: videoTrack ? 'sendrecv' : 'recvonly' });
    }
    this.call.emit('peer-updated', this);
  }

  // Restart ICE: new credentials and candidates in a new offer, from the
  // original offerer only (the other side answers it).  Returns whether
  // a restart began.
  restartIce() {
    if (!this.pc || !this.offerer)
      return false;
    this.pc.restartIce(); // negotiationneeded follows
    return true;
  }

  get label() {
    return this.name || 'a peer';
  }

  // Run fn after everything queued before it: descriptions and
  // candidates are applied in the order they came.  What was queued for a
  // connection that open() has since replaced is dropped.
  enqueue(fn) {
    const pc = this.pc;
    this.chain = this.chain.then(() => (this.pc === pc ? fn() : null)).catch((e) => {
      console.warn(`peer ${this.id.slice(0, 8)}: ${e && e.message}`);
    });
    return this.chain;
  }

  async negotiate() {
    const pc = this.pc;
    if (!pc || pc.signalingState !== 'stable')
      return; // fired again once stable, if still needed
    try {
      this.makingOffer = true;
      await pc.setLocalDescription();
      if (this.pc === pc)
        this.call.signal({ type: pc.localDescription.type, to: this.id, sdp: pc.localDescription.sdp });
    } finally {
      this.makingOffer = false;
    }
  }

  // An offer or answer from the peer.
  async onDescription(type, sdp) {
    const pc = this.pc;
    if (!pc)
      return;
    const collision = type === 'offer' &&
      (this.makingOffer || pc.signalingState !== 'stable');
    this.ignoreOffer = !this.polite && collision;
    if (this.ignoreOffer)
      return;
    if (type === 'answer' && pc.signalingState !== 'have-local-offer')
      return; // a stale answer
    await pc.setRemoteDescription({ type, sdp });
    if (type === 'offer') {
      this.takeTransceivers();
      await this.syncSenders();
      await pc.setLocalDescription();
      if (this.pc === pc)
        this.call.signal({ type: 'answer', to: this.id, sdp: pc.localDescription.sdp });
    }
    const pending = this.pending;
    this.pending = [];
    for (const c of pending)
      await this.addCandidate(c);
  }

  // A candidate from the peer (null: end of candidates).
  async onCandidate(candidate) {
    const pc = this.pc;
    if (!pc)
      return;
    if (!pc.remoteDescription) {
      this.pending.push(candidate);
      return;
    }
    await this.addCandidate(candidate);
  }

  async addCandidate(candidate) {
    try {
      if (candidate)
        await this.pc.addIceCandidate(candidate);
      else
        await this.pc.addIceCandidate();
    } catch (e) {
      if (!this.ignoreOffer && candidate)
        console.warn(`peer ${this.id.slice(0, 8)}: candidate refused: ${e.message}`);
    }
  }

  // On the answering side: the first audio and video transceivers the
  // offer made are ours to send on.
  takeTransceivers() {
    for (const t of this.pc.getTransceivers()) {
      if (t.stopped)
        continue;
      const kind = t.receiver.track.kind;
      if (kind === 'audio' && !this.audioTx)
        this.audioTx = t;
      else if (kind === 'video' && !this.videoTx)
        this.videoTx = t;
    }
  }

  // Send the current local tracks: replaceTrack needs no renegotiation,
  // except where a transceiver only received so far (then it is made
  // sendrecv, and negotiationneeded follows).
  async syncSenders() {
    const { audioTrack, videoTrack } = this.call.media;
    for (const [tx, track] of [[this.audioTx, audioTrack], [this.videoTx, videoTrack]]) {
      if (!tx || tx.stopped)
        continue;
      if (tx.sender.track !== track)
        await tx.sender.replaceTrack(track);
      if (track && tx.direction === 'recvonly')
        tx.direction = 'sendrecv';
    }
  }

  // The selected candidate pair, from getStats().
  async stats() {
    const pc = this.pc;
    const out = { connectionState: this.connectionState, local: null, remote: null };
    if (!pc)
      return out;
    const report = await pc.getStats();
    let pair = null;
    report.forEach((r) => {
      if (r.type === 'transport' && r.selectedCandidatePairId)
        pair = report.get(r.selectedCandidatePairId) || pair;
    });
    if (!pair)
      report.forEach((r) => {
        if (!pair && r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded')
          pair = r;
      });
    if (!pair)
      return out;
    const local = report.get(pair.localCandidateId);
    const remote = report.get(pair.remoteCandidateId);
    const ufrag = (d) => (d && /^a=ice-ufrag:(\S+)/m.exec(d.sdp) || [])[1] || null;
    return {
      ...out,
      localUfrag: ufrag(pc.localDescription),
      remoteUfrag: ufrag(pc.remoteDescription),
      local: local ? local.candidateType : null,
      remote: remote ? remote.candidateType : null,
      localProtocol: local ? local.protocol : null,
      relayProtocol: local ? (local.relayProtocol || null) : null,
      bytesSent: pair.bytesSent,
      bytesReceived: pair.bytesReceived,
      roundTripTime: pair.currentRoundTripTime,
    };
  }

  close() {
    if (this.pc) {
      const pc = this.pc;
      this.pc = null;
      pc.close();
    }
    for (const t of this.stream.getTracks())
      this.stream.removeTrack(t);
    this.connectionState = 'closed';
  }
}

// Events, each a CustomEvent whose detail is given:
//   state        {state, prev, event, reason, message}  after every transition
//   peer-added   Peer        peer-removed {peer, reason}
//   peer-updated Peer (connection state, name, remote state)
//   peer-media   Peer (a remote track arrived)
//   chat         {from, name, text, ts, self}
//   notice       {level: info|warn|error, text}
export class Call extends EventTarget {
  // media: a LocalMedia; url: the /ws URL.
  constructor(media, url) {
    super();
    this.media = media;
    this.url = url;
    this.state = 'idle';
    this.sig = null;
    this.selfId = null;
    this.room = '';
    this.name = '';
    this.token = null;
    this.ice = { iceServers: [], iceTransportPolicy: 'all' };
    this.peers = new Map();
    this.attempts = 0;
    this.retryTimer = 0;
    media.addEventListener('change', () => this.onMediaChange());
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  // The one place the state changes.  Returns whether event applied.
  transition(event, detail = {}) {
    const prev = this.state;
    const next = TRANSITIONS[prev][event];
    if (!next)
      return false;
    this.state = next;
    this.enter(next, prev, event, detail);
    this.emit('state', {
      state: next, prev, event,
      reason: detail.reason || null, message: detail.message || null,
    });
    return true;
  }

  // What entering each state does.
  enter(state, prev, event, detail) {
    switch (state) {
    case 'joining':
      this.attempts = 0;
      this.connect();
      break;
    case 'in-call':
      this.attempts = 0;
      this.onWelcome(detail.welcome, prev === 'reconnecting');
      break;
    case 'reconnecting':
      this.dropSignaling();
      for (const peer of this.peers.values()) {
        peer.close();
        peer.connectionState = 'reconnecting';
        this.emit('peer-updated', peer);
      }
      this.emit('notice', { level: 'warn', text: 'Lost the connection to the server. Reconnecting…' });
      this.scheduleRetry();
      break;
    case 'idle':
    case 'left':
      if (state === 'left' && this.sig)
        this.sig.leave();
      this.dropSignaling();
      for (const peer of [...this.peers.values()])
        this.removePeer(peer.id, state);
      this.selfId = null;
      break;
    }
  }

  // Join room under name (optional), with a join token (optional).
  join({ room, name, token }) {
    this.room = room;
    this.name = name || '';
    this.token = token || null;
    return this.transition('join');
  }

  leave() {
    return this.transition('leave');
  }

  rtcConfig() {
    return {
      iceServers: this.ice.iceServers,
      iceTransportPolicy: this.ice.iceTransportPolicy,
      bundlePolicy: 'max-bundle',
    };
  }

  // Open a socket and send join; the answer comes in onMessage().
  async connect() {
    clearTimeout(this.retryTimer);
    this.retryTimer = 0;
    const sig = new Signaling(this.url);
    this.sig = sig;
    sig.addEventListener('message', (ev) => {
      if (this.sig === sig)
        this.onMessage(ev.detail);
    });
    sig.addEventListener('close', () => {
      if (this.sig === sig)
        this.onSocketGone();
    });
    try {
      await sig.connect();
    } catch {
      if (this.sig === sig)
        this.onSocketGone();
      return;
    }
    if (this.sig !== sig) {
      sig.close();
      return;
    }
    const join = { type: 'join', room: this.room };
    if (this.name)
      join.name = this.name;
    if (this.token)
      join.token = this.token;
    sig.send(join);
  }

  // The socket closed, or could not be opened.
  onSocketGone() {
    this.sig = null;
    if (this.state === 'joining')
      this.transition('fail', {
        reason: 'unreachable',
        message: 'Cannot reach the server. Check your connection and try again.',
      });
    else if (this.state === 'in-call')
      this.transition('lost');
    else if (this.state === 'reconnecting')
      this.scheduleRetry();
  }

  scheduleRetry() {
    clearTimeout(this.retryTimer);
    const base = BACKOFF_MS[Math.min(this.attempts, BACKOFF_MS.length - 1)];
    const wait = Math.round(base * (0.8 + 0.4 * Math.random()));
    this.attempts++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = 0;
      if (this.state === 'reconnecting')
        this.connect();
    }, wait);
    this.emit('retry', { attempt: this.attempts, wait });
  }

  dropSignaling() {
    clearTimeout(this.retryTimer);
    this.retryTimer = 0;
    if (this.sig) {
      const sig = this.sig;
      this.sig = null;
      sig.close();
    }
  }

  // Queue a message to the server while in the call.
  signal(msg) {
    if (this.sig && this.state === 'in-call')
      this.sig.send(msg);
  }

  onMessage(msg) {
    switch (msg.type) {
    case 'welcome':
      this.selfId = msg.id;
      this.ice = {
        iceServers: Array.isArray(msg.iceServers) ? msg.iceServers : [],
        iceTransportPolicy: msg.iceTransportPolicy === 'relay' ? 'relay' : 'all',
      };
      this.transition('welcome', { welcome: msg });
      break;
    case 'error':
      this.onServerError(msg);
      break;
    case 'peer-joined':
      if (typeof msg.id === 'string' && msg.id !== this.selfId) {
        const peer = this.addPeer(msg.id, msg.name, null);
        peer.open(false);
        this.emit('notice', { level: 'info', text: `${peer.name || 'Someone'} joined`, chat: true });
      }
      break;
    case 'peer-left': {
      const peer = this.peers.get(msg.id);
      if (peer) {
        this.removePeer(msg.id, 'left');
        this.emit('notice', { level: 'info', text: `${peer.name || 'Someone'} left`, chat: true });
      }
      break;
    }
    case 'offer':
    case 'answer': {
      let peer = this.peers.get(msg.from);
      if (!peer && msg.type === 'offer' && typeof msg.from === 'string') {
        peer = this.addPeer(msg.from, '', null); // its peer-joined was lost
        peer.open(false);
      }
      if (peer && typeof msg.sdp === 'string')
        peer.enqueue(() => peer.onDescription(msg.type, msg.sdp));
      break;
    }
    case 'candidate': {
      const peer = this.peers.get(msg.from);
      if (peer)
        peer.enqueue(() => peer.onCandidate(msg.candidate || null));
      break;
    }
    case 'chat':
      if (typeof msg.text === 'string')
        this.emit('chat', {
          from: msg.from, name: msg.name || '', text: msg.text,
          ts: typeof msg.ts === 'number' ? msg.ts : Date.now(),
          self: msg.from === this.selfId,
        });
      break;
    case 'state': {
      const peer = this.peers.get(msg.from);
      if (peer && msg.state && typeof msg.state === 'object') {
        peer.remote = { ...peer.remote, ...sanitizeState(msg.state) };
        this.emit('peer-updated', peer);
      }
      break;
    }
    default:
      break; // newer servers may say more
    }
  }

  onServerError(msg) {
    const text = FATAL_ERRORS[msg.code];
    if (text && (this.state === 'joining' || this.state === 'reconnecting')) {
      this.transition('fail', { reason: msg.code, message: text });
      return;
    }
    if (msg.code === 'rate-limited' && this.sig) {
      this.sig.slowDown();
      return;
    }
    if (msg.code === 'too-large') {
      this.emit('notice', { level: 'warn', text: 'That message is too long to send.' });
      return;
    }
    console.warn(`signaling: server error ${msg.code}: ${msg.message}`);
  }

  // Welcomed: connect to everyone already there (we offer), keeping the
  // tiles of those still there after a reconnect.
  onWelcome(welcome, again) {
    const listed = new Map();
    for (const p of Array.isArray(welcome.peers) ? welcome.peers : [])
      if (p && typeof p.id === 'string')
        listed.set(p.id, p);
    for (const id of [...this.peers.keys()])
      if (!listed.has(id))
        this.removePeer(id, 'left');
    for (const p of listed.values()) {
      const peer = this.peers.get(p.id) || this.addPeer(p.id, p.name, p.state);
      if (p.state && typeof p.state === 'object')
        peer.remote = { ...peer.remote, ...sanitizeState(p.state) };
      peer.open(true);
    }
    this.sendState();
    if (again)
      this.emit('notice', { level: 'info', text: 'Reconnected.' });
  }

  addPeer(id, name, state) {
    let peer = this.peers.get(id);
    if (peer)
      return peer;
    peer = new Peer(this, id, typeof name === 'string' ? name : '', sanitizeState(state || {}));
    this.peers.set(id, peer);
    this.emit('peer-added', peer);
    return peer;
  }

  removePeer(id, reason) {
    const peer = this.peers.get(id);
    if (!peer)
      return;
    peer.close();
    this.peers.delete(id);
    this.emit('peer-removed', { peer, reason });
  }

  // What others see of us.
  localState() {
    const m = this.media;
    return {
      muted: m.muted || !m.audioTrack,
      video: !!m.screenTrack || (!!m.cameraTrack && !m.videoOff),
      screen: !!m.screenTrack,
    };
  }

  sendState() {
    this.signal({ type: 'state', state: this.localState() });
  }

  sendChat(text) {
    if (!text || this.state !== 'in-call')
      return false;
    this.signal({ type: 'chat', text });
    return true;
  }

  // Local tracks changed (mute, camera, screen): tell the senders and the
  // room.
  onMediaChange() {
    for (const peer of this.peers.values())
      if (peer.pc)
        peer.enqueue(() => peer.syncSenders());
    if (this.state === 'in-call')
      this.sendState();
  }

  // For tests: drop the socket as a network failure would.
  dropSocket() {
    if (this.sig)
      this.sig.drop();
  }
}

// Only the keys we know, with the types we expect.
function sanitizeState(s) {
  const out = {};
  for (const key of ['muted', 'video', 'screen'])
    if (typeof s[key] === 'boolean')
      out[key] = s[key];
  return out;
}
