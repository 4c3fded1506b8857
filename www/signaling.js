// SPDX-License-Identifier: BSD-2-Clause
//
// signaling.js: one WebSocket to turnpiked's /ws, speaking the signaling
// protocol v1 (turnpike-signaling(7)) as JSON text messages.
//
// A Signaling object is one connection attempt: connect() opens it, the
// owner sends join and everything after, and listens for "message" and
// "close" events.  It paces what it sends below the server's rate limit
// (signaling.rate, signaling.burst: 20 a second, 60 at once by default)
// so that a burst of ICE candidates to many peers is never refused, and
// it sends an application ping when the line has been quiet, to notice a
// dead connection sooner than TCP would.
//
// Not here: reconnecting (a new Signaling per attempt, in call.js), the
// meaning of the messages (call.js), anything on screen.

const PACE_RATE = 15;        // messages a second, under the server's 20
const PACE_BURST = 40;       // messages at once, under the server's 60
const KEEPALIVE_MS = 15000;  // quiet this long: send a ping
const PONG_TIMEOUT_MS = 10000; // no answer this long: the line is dead

// The /ws URL on the server this page came from.
export function signalingUrl(loc = window.location) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/ws`;
}

export class Signaling extends EventTarget {
  // url: the WebSocket URL (signalingUrl()).
  constructor(url) {
    super();
    this.url = url;
    this.ws = null;
    this.queue = [];
    this.tokens = PACE_BURST;
    this.lastRefill = performance.now();
    this.flushTimer = 0;
    this.keepaliveTimer = 0;
    this.pongTimer = 0;
    this.closed = false;
  }

  // Open the socket.  Resolves once open; rejects if it closes (or the
  // server cannot be reached) first.  After open, a close is reported as
  // a "close" event with detail {code, reason, clean}.
  connect() {
    return new Promise((resolve, reject) => {
      let opened = false;
      let ws;
      try {
        ws = new WebSocket(this.url);
      } catch (e) {
        reject(e);
        return;
      }
      this.ws = ws;
      ws.addEventListener('open', () => {
        opened = true;
        this.armKeepalive();
        resolve();
      });
      ws.addEventListener('message', (ev) => this.onMessage(ev));
      ws.addEventListener('close', (ev) => {
        this.stopTimers();
        const wasClosed = this.closed;
        this.closed = true;
        if (!opened) {
          reject(new Error(`WebSocket closed before opening (code ${ev.code})`));
          return;
        }
        if (!wasClosed)
          this.dispatchEvent(new CustomEvent('close', {
            detail: { code: ev.code, reason: ev.reason, clean: ev.wasClean },
          }));
      });
      // An error event is always followed by close: handled there.
      ws.addEventListener('error', () => {});
    });
  }

  onMessage(ev) {
    this.armKeepalive();
    if (typeof ev.data !== 'string')
      return;
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      console.warn('signaling: a message that is not JSON was ignored');
      return;
    }
    if (msg === null || typeof msg !== 'object' || typeof msg.type !== 'string')
      return;
    if (msg.type === 'pong')
      return;
    this.dispatchEvent(new CustomEvent('message', { detail: msg }));
  }

  // Queue msg (an object) to go out as soon as the pace allows.  Messages
  // keep their order.  Nothing is sent after close().
  send(msg) {
    if (this.closed)
      return;
    this.queue.push(JSON.stringify(msg));
    this.flush();
  }

  // Slow down after the server said rate-limited.
  slowDown() {
    this.tokens = 0;
  }

  flush() {
    if (this.flushTimer || this.closed)
      return;
    const now = performance.now();
    this.tokens = Math.min(PACE_BURST,
      this.tokens + (now - this.lastRefill) * PACE_RATE / 1000);
    this.lastRefill = now;
    while (this.queue.length > 0 && this.tokens >= 1 &&
           this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(this.queue.shift());
      this.tokens -= 1;
    }
    if (this.queue.length > 0) {
      const wait = Math.max(10, (1 - this.tokens) * 1000 / PACE_RATE);
      this.flushTimer = setTimeout(() => {
        this.flushTimer = 0;
        this.flush();
      }, wait);
    }
  }

  armKeepalive() {
    clearTimeout(this.keepaliveTimer);
    clearTimeout(this.pongTimer);
    this.pongTimer = 0;
    if (this.closed)
      return;
    this.keepaliveTimer = setTimeout(() => {
      this.send({ type: 'ping' });
      this.pongTimer = setTimeout(() => this.drop(), PONG_TIMEOUT_MS);
    }, KEEPALIVE_MS);
  }

  stopTimers() {
    clearTimeout(this.flushTimer);
    clearTimeout(this.keepaliveTimer);
    clearTimeout(this.pongTimer);
    this.flushTimer = this.keepaliveTimer = this.pongTimer = 0;
  }

  // Close as if the network had dropped: the owner gets a "close" event
  // and reconnects.  For a dead line, and for tests.
  drop() {
    if (this.ws && !this.closed)
      this.ws.close(4000, 'dropped');
  }

  // Say leave (ahead of anything still paced) and close for good.
  leave() {
    if (!this.closed && this.ws && this.ws.readyState === WebSocket.OPEN)
      this.ws.send(JSON.stringify({ type: 'leave' }));
    this.close();
  }

  // Close for good: no "close" event follows.
  close() {
    if (this.closed)
      return;
    this.closed = true;
    this.stopTimers();
    this.queue = [];
    if (this.ws && this.ws.readyState <= WebSocket.OPEN)
      this.ws.close(1000, 'bye');
  }
}
