// tts-predictor web UI, the players: each plays one clip and knows how to pause, resume and stop it.
// pcm: Web Audio, each chunk an AudioBufferSourceNode scheduled right after the previous one; pause suspends the
// AudioContext. mp3/aac: a MediaSource on a fresh <audio> element, appended as chunks arrive; opus/ogg/flac: the
// browser cannot append those containers to a MediaSource, so they play once complete. Every clip gets its own
// <audio> element (a new createMediaElementSource and analyser), so one clip's sound is never measured for another.
// window.ttsAudio.sounding() counts what can be heard right now, from the nodes and elements themselves.
"use strict";
const SILENT = 0.003; // |sample| below this counts as silence
const MSE_TYPES = { mp3: "audio/mpeg", aac: "audio/aac" };
const PLAYERS = []; // every player of this page (the last 20), for window.ttsAudio

let audioCtx = null;
function audioContext() {
  audioCtx = audioCtx || new AudioContext();
  if (audioCtx.state === "suspended") audioCtx.resume();
  return audioCtx;
}

function firstLoud(samples) {
  for (let i = 0; i < samples.length; i++) if (Math.abs(samples[i]) > SILENT) return i;
  return -1;
}

function remember(player) {
  PLAYERS.push(player);
  if (PLAYERS.length > 20) PLAYERS.shift();
}

function wavFile(pcmParts, rate) {
  const size = pcmParts.reduce((n, p) => n + p.length, 0);
  const head = new DataView(new ArrayBuffer(44));
  const text = (o, s) => [...s].forEach((c, i) => head.setUint8(o + i, c.charCodeAt(0)));
  text(0, "RIFF"); head.setUint32(4, 36 + size, true); text(8, "WAVEfmt "); head.setUint32(16, 16, true);
  head.setUint16(20, 1, true); head.setUint16(22, 1, true); head.setUint32(24, rate, true);
  head.setUint32(28, rate * 2, true); head.setUint16(32, 2, true); head.setUint16(34, 16, true);
  text(36, "data"); head.setUint32(40, size, true);
  return new Blob([head, ...pcmParts], { type: "audio/wav" });
}

// Raw s16le mono chunks -> AudioBufferSourceNodes scheduled back to back. `hooks.audible(t)` is called once with
// the performance.now() of the first audible sample, `hooks.ended()` once the last queued buffer has played.
class PcmPlayer {
  constructor(rate, hooks) {
    this.ctx = audioContext(); this.rate = rate; this.hooks = hooks; this.next = 0; this.t0 = null; this.odd = null;
    this.parts = []; this.live = new Set(); this.complete = false; this.stopped = false; this.heard = false;
    remember(this);
  }
  push(bytes) {
    if (this.stopped) return;
    if (this.odd) { const b = new Uint8Array(this.odd.length + bytes.length); b.set(this.odd); b.set(bytes, 1); bytes = b; }
    const even = bytes.length - (bytes.length % 2);
    this.odd = even < bytes.length ? bytes.slice(even) : null;
    if (!even) return;
    const pcm = bytes.slice(0, even);
    this.parts.push(pcm);
    const ints = new Int16Array(pcm.buffer, pcm.byteOffset, even / 2);
    const buf = this.ctx.createBuffer(1, ints.length, this.rate);
    const data = buf.getChannelData(0);
    for (let i = 0; i < ints.length; i++) data[i] = ints[i] / 32768;
    this.schedule(buf, firstLoud(data));
  }
  schedule(buf, loud) {
    const now = this.ctx.currentTime;
    const at = Math.max(now + 0.03, this.next);
    if (this.t0 === null) this.t0 = at;
    else if (at > this.next) this.t0 += at - this.next; // an underrun: the stream resumes later
    this.next = at + buf.duration;
    const src = this.ctx.createBufferSource();
    src.buffer = buf;
    src.connect(this.ctx.destination);
    src.onended = () => { this.live.delete(src); this.checkEnded(); };
    src.start(at);
    this.live.add(src);
    if (loud >= 0 && !this.heard) {
      this.heard = true;
      this.hooks.audible(performance.now() + (at + loud / this.rate - now) * 1000);
    }
  }
  checkEnded() {
    if (this.complete && !this.stopped && this.live.size === 0) { this.stopped = true; this.hooks.ended(); }
  }
  finish() { this.complete = true; this.checkEnded(); return wavFile(this.parts, this.rate); }
  position() { return this.t0 === null ? -1 : Math.max(0, this.ctx.currentTime - this.t0); }
  pause() { return this.ctx.suspend(); }
  resume() { return this.ctx.resume(); }
  stop() {
    this.stopped = true;
    for (const s of this.live) {
      try { s.stop(); } catch (e) { /* never started */ }
      s.disconnect();
    }
    this.live.clear();
    if (this.ctx.state === "suspended") this.ctx.resume(); // a paused clip stopped: the next one must be heard
  }
  // Source nodes scheduled or playing and still connected to the speakers.
  sounding() { return this.live.size; }
}

// Encoded chunks -> a fresh <audio> element: appended to a MediaSource as they come (mp3, aac), or played when
// complete (opus, ogg, flac, and replays from the history, which pass the whole clip as `url`).
class ElementPlayer {
  constructor(format, contentType, hooks, url = null) {
    this.type = (contentType || "").split(";")[0]; this.hooks = hooks; this.parts = []; this.queue = [];
    this.stopped = false; this.urls = [];
    this.el = document.createElement("audio");
    this.el.hidden = true; // the page's own buttons control it: no second, untracked way to play
    this.el.addEventListener("ended", () => { if (!this.stopped) { this.stopped = true; this.quiet(); hooks.ended(); } });
    this.el.addEventListener("pause", () => { if (!this.stopped && !this.el.ended) hooks.paused(true); });
    this.el.addEventListener("play", () => { if (!this.stopped) hooks.paused(false); });
    this.watchLoudness();
    remember(this);
    if (url) { this.el.src = url; this.play(); return; }
    if (MSE_TYPES[format] && window.MediaSource && MediaSource.isTypeSupported(MSE_TYPES[format])) {
      this.source = new MediaSource();
      this.el.src = this.objectUrl(this.source);
      this.source.addEventListener("sourceopen", () => {
        if (this.stopped) return;
        this.buffer = this.source.addSourceBuffer(MSE_TYPES[format]);
        this.buffer.mode = "sequence";
        this.buffer.addEventListener("updateend", () => this.drain());
        this.drain();
      }, { once: true });
    }
  }
  objectUrl(obj) { const u = URL.createObjectURL(obj); this.urls.push(u); return u; }
  play() { this.el.play().catch(() => {}); }
  push(bytes) {
    if (this.stopped) return;
    this.parts.push(bytes);
    if (!this.source) return;
    this.queue.push(bytes);
    this.drain();
  }
  drain() {
    if (this.stopped || !this.buffer || this.buffer.updating) return;
    if (this.queue.length) {
      this.buffer.appendBuffer(this.queue.shift());
      if (this.el.paused && !this.userPaused) this.play();
    } else if (this.complete && this.source.readyState === "open") {
      this.source.endOfStream();
    }
  }
  finish() {
    const blob = new Blob(this.parts, { type: this.type });
    this.complete = true;
    if (this.stopped) return blob;
    if (this.source) this.drain();
    else { this.el.src = this.objectUrl(blob); this.play(); }
    return blob;
  }
  position() { return this.el.currentTime; }
  pause() { this.userPaused = true; this.el.pause(); }
  resume() { this.userPaused = false; audioContext(); this.play(); }
  stop() {
    this.stopped = true;
    this.el.pause();
    this.quiet();
    if (!this.el.ended) { this.el.removeAttribute("src"); this.el.load(); }
    for (const u of this.urls) URL.revokeObjectURL(u);
    for (const n of this.graph) n.disconnect(); // even if something played it now, nothing would be heard
  }
  quiet() { clearInterval(this.timer); }
  sounding() { return this.el.paused || this.el.ended ? 0 : 1; }
  // An analyser in this element's own audio graph notes its first audible sample.
  watchLoudness() {
    const ctx = audioContext();
    const node = ctx.createMediaElementSource(this.el);
    const analyser = ctx.createAnalyser();
    node.connect(analyser);
    analyser.connect(ctx.destination);
    this.graph = [node, analyser];
    const data = new Float32Array(analyser.fftSize);
    this.timer = setInterval(() => {
      if (this.el.paused) return;
      analyser.getFloatTimeDomainData(data);
      if (firstLoud(data) >= 0) { this.quiet(); this.hooks.audible(performance.now()); }
    }, 10);
  }
}

// What the tests read: what is audible now, from the players' own nodes and elements.
window.ttsAudio = {
  sounding: () => PLAYERS.reduce((n, p) => n + p.sounding(), 0),
  playersSounding: () => PLAYERS.filter((p) => p.sounding() > 0).length,
  contextTime: () => (audioCtx ? audioCtx.currentTime : null),
  contextState: () => (audioCtx ? audioCtx.state : null),
};
