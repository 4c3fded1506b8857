// SPDX-License-Identifier: BSD-2-Clause
//
// media.js: the local camera, microphone and screen, and the audio level
// of any track.
//
// LocalMedia asks for the camera and microphone, falling back to what is
// there and allowed (audio only, video only, nothing: receive only), and
// says why in one sentence for the page to show.  It holds the tracks the
// call sends; the call asks it for them and is told when the outgoing
// video changes (screen sharing).  LevelMeter measures speech with a Web
// Audio AnalyserNode per track.
//
// Not here: peer connections (call.js), the DOM (ui.js).

// What we ask the camera for; Chromium scales down under load.
const VIDEO_CONSTRAINTS = {
  width: { ideal: 1280 },
  height: { ideal: 720 },
  frameRate: { ideal: 30 },
};
const AUDIO_CONSTRAINTS = {
  echoCancellation: true,
  noiseSuppression: true,
  autoGainControl: true,
};

// One getUserMedia outcome: a track or the error's name.
async function getTrack(kind, deviceId) {
  const base = kind === 'audio' ? AUDIO_CONSTRAINTS : VIDEO_CONSTRAINTS;
  const constraints = { ...base };
  if (deviceId)
    constraints.deviceId = { exact: deviceId };
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ [kind]: constraints });
    return { track: stream.getTracks()[0] };
  } catch (e) {
    if (deviceId && e.name === 'OverconstrainedError')
      return getTrack(kind, null); // the device went away: any will do
    return { error: e.name || 'Error' };
  }
}

// The words for a failed device.
function reason(error, what) {
  switch (error) {
  case 'NotAllowedError':
  case 'SecurityError':
    return `${what} access is blocked`;
  case 'NotFoundError':
  case 'OverconstrainedError':
    return `No ${what.toLowerCase()} was found`;
  case 'NotReadableError':
  case 'AbortError':
    return `The ${what.toLowerCase()} is in use by another program`;
  default:
    return `The ${what.toLowerCase()} could not be started`;
  }
}

// One sentence about what we got.  audioErr/videoErr: error names or null.
export function describeMedia(audioErr, videoErr) {
  if (!audioErr && !videoErr)
    return { level: 'ok', text: 'Camera and microphone are ready.' };
  if (audioErr && videoErr) {
    const denied = audioErr === 'NotAllowedError' && videoErr === 'NotAllowedError';
    const missing = audioErr === 'NotFoundError' && videoErr === 'NotFoundError';
    let text;
    if (denied)
      text = 'Camera and microphone access is blocked. You can still join to watch and listen; allow them in the site settings and reload to be seen and heard.';
    else if (missing)
      text = 'No camera or microphone was found. You can still join to watch and listen.';
    else
      text = `${reason(videoErr, 'Camera')} and ${reason(audioErr, 'Microphone').replace(/^\w/, (c) => c.toLowerCase())}. You can still join to watch and listen.`;
    return { level: 'warn', text };
  }
  if (videoErr)
    return { level: 'warn', text: `${reason(videoErr, 'Camera')}: you will join with audio only.` };
  return { level: 'warn', text: `${reason(audioErr, 'Microphone')}: you will join with video only, unheard.` };
}

export class LocalMedia extends EventTarget {
  constructor() {
    super();
    this.audioTrack = null;   // the microphone
    this.cameraTrack = null;  // the camera
    this.screenTrack = null;  // the shared screen, while sharing
    this.muted = false;       // microphone muted by the user
    this.videoOff = false;    // camera turned off by the user
    this.status = { level: 'ok', text: '' };
  }

  get supported() {
    return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  }

  // The video track that goes out: the screen while sharing, else the camera.
  get videoTrack() {
    return this.screenTrack || this.cameraTrack;
  }

  // A stream of what goes out, for the own tile.
  get stream() {
    return new MediaStream([this.audioTrack, this.videoTrack].filter(Boolean));
  }

  // Ask for a camera and a microphone (the given device ids, or any), each
  // on its own so that one refused leaves the other.  Resets this.status.
  // Emits "change".  Never rejects.
  async acquire({ audioId = null, videoId = null } = {}) {
    if (!this.supported) {
      this.stopCamera();
      this.status = {
        level: 'error',
        text: 'Camera and microphone need a secure page (https:// or localhost). You can still join to watch and listen.',
      };
      this.dispatchEvent(new Event('change'));
      return this.status;
    }
    this.stopCamera();
    let audio, video;
    try {
      // Both at once first: one permission prompt.
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: audioId ? { ...AUDIO_CONSTRAINTS, deviceId: { exact: audioId } } : AUDIO_CONSTRAINTS,
        video: videoId ? { ...VIDEO_CONSTRAINTS, deviceId: { exact: videoId } } : VIDEO_CONSTRAINTS,
      });
      audio = { track: stream.getAudioTracks()[0] };
      video = { track: stream.getVideoTracks()[0] };
    } catch {
      // Then each on its own: one refused or missing leaves the other.
      audio = await getTrack('audio', audioId);
      video = await getTrack('video', videoId);
    }
    this.audioTrack = audio.track || null;
    this.cameraTrack = video.track || null;
    if (this.audioTrack)
      this.audioTrack.enabled = !this.muted;
    if (this.cameraTrack) {
      this.cameraTrack.enabled = !this.videoOff;
      this.cameraTrack.contentHint = 'motion';
    }
    this.status = describeMedia(audio.error || null, video.error || null);
    this.dispatchEvent(new Event('change'));
    return this.status;
  }

  // Cameras and microphones, as [{deviceId, label}], labels once allowed.
  async devices() {
    const out = { cameras: [], mics: [] };
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices)
      return out;
    let list = [];
    try {
      list = await navigator.mediaDevices.enumerateDevices();
    } catch {
      return out;
    }
    for (const d of list) {
      if (!d.deviceId)
        continue;
      const entry = { deviceId: d.deviceId, label: d.label };
      if (d.kind === 'videoinput')
        out.cameras.push(entry);
      else if (d.kind === 'audioinput')
        out.mics.push(entry);
    }
    return out;
  }

  // The device id the current track of kind uses, or null.
  deviceId(kind) {
    const track = kind === 'audio' ? this.audioTrack : this.cameraTrack;
    return track ? (track.getSettings().deviceId || null) : null;
  }

  setMuted(muted) {
    this.muted = muted;
    if (this.audioTrack)
      this.audioTrack.enabled = !muted;
    this.dispatchEvent(new Event('change'));
  }

  setVideoOff(off) {
    this.videoOff = off;
    if (this.cameraTrack)
      this.cameraTrack.enabled = !off;
    this.dispatchEvent(new Event('change'));
  }

  // Share a screen (the browser asks which).  Resolves to true when
  // sharing; false when the user said no.  When the share ends (the
  // browser's own stop button included) "change" tells the call to send
  // the camera again.
  async startScreen() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getDisplayMedia)
      throw new Error('Screen sharing is not available in this browser.');
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch (e) {
      if (e.name === 'NotAllowedError' || e.name === 'AbortError')
        return false;
      throw e;
    }
    const track = stream.getVideoTracks()[0];
    if (!track)
      return false;
    track.contentHint = 'detail';
    track.addEventListener('ended', () => {
      if (this.screenTrack === track)
        this.stopScreen();
    });
    this.screenTrack = track;
    this.dispatchEvent(new Event('change'));
    return true;
  }

  stopScreen() {
    if (!this.screenTrack)
      return;
    const track = this.screenTrack;
    this.screenTrack = null;
    track.stop();
    this.dispatchEvent(new Event('change'));
  }

  stopCamera() {
    for (const t of [this.audioTrack, this.cameraTrack])
      if (t)
        t.stop();
    this.audioTrack = this.cameraTrack = null;
  }

  stopAll() {
    this.stopScreen();
    this.stopCamera();
  }
}

// Speech detection on audio tracks.  One AudioContext, made on first use
// (call it from a user gesture: browsers keep a context made without one
// suspended), one AnalyserNode per watched track, polled ten times a
// second (timers keep running where animation frames stop).
const SPEAK_ON = 0.012;   // RMS that starts "speaking"
const SPEAK_HOLD_MS = 400; // speaking lasts at least this long

export class LevelMeter {
  constructor() {
    this.ctx = null;
    this.watched = new Map(); // key -> {source, analyser, buf, cb, speaking, until}
    this.timer = 0;
  }

  // Make (or wake) the AudioContext; call from a user gesture.
  start() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx)
      return;
    if (!this.ctx)
      this.ctx = new Ctx();
    if (this.ctx.state === 'suspended')
      this.ctx.resume().catch(() => {});
  }

  // Call cb(speaking) whenever speech on track starts or stops.  A new
  // track for the same key replaces the old one.
  watch(key, track, cb) {
    this.unwatch(key);
    if (!this.ctx || !track || track.kind !== 'audio')
      return;
    let source;
    try {
      source = this.ctx.createMediaStreamSource(new MediaStream([track]));
    } catch {
      return;
    }
    const analyser = this.ctx.createAnalyser();
    analyser.fftSize = 512;
    analyser.smoothingTimeConstant = 0.3;
    source.connect(analyser);
    this.watched.set(key, {
      source, analyser, track, cb,
      buf: new Float32Array(analyser.fftSize),
      speaking: false, until: 0,
    });
    if (!this.timer)
      this.timer = setInterval(() => this.poll(), 100);
  }

  unwatch(key) {
    const w = this.watched.get(key);
    if (!w)
      return;
    w.source.disconnect();
    this.watched.delete(key);
    if (w.speaking)
      w.cb(false);
    if (this.watched.size === 0) {
      clearInterval(this.timer);
      this.timer = 0;
    }
  }

  poll() {
    const now = performance.now();
    for (const w of this.watched.values()) {
      w.analyser.getFloatTimeDomainData(w.buf);
      let sum = 0;
      for (const v of w.buf)
        sum += v * v;
      const rms = Math.sqrt(sum / w.buf.length);
      const loud = w.track.enabled && w.track.readyState === 'live' && rms > SPEAK_ON;
      if (loud)
        w.until = now + SPEAK_HOLD_MS;
      const speaking = loud || now < w.until;
      if (speaking !== w.speaking) {
        w.speaking = speaking;
        w.cb(speaking);
      }
    }
  }
}
