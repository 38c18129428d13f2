// tts-predictor web UI: POST /synthesize as NDJSON (base64 audio + segment events), played while it streams.
// pcm/wav: Web Audio (each chunk scheduled right after the previous one); mp3/aac: MediaSource on <audio>;
// opus/ogg/flac: the browser cannot append those containers to a MediaSource, so they play once complete.
// window.ttsMetrics records performance.now() at the click, the first and last audio bytes and the first audible
// sample, for tests.
"use strict";
const $ = (id) => document.getElementById(id);
const KEY_STORE = "tts-api-key";
const SILENT = 0.003; // |sample| below this counts as silence
const SSML_EXAMPLE = '<speak>Hello! <break time="400ms"/> This is <emphasis>SSML</emphasis>.\n' +
  '<prosody rate="slow">It can slow down,</prosody> <prosody pitch="+3st">or go higher.</prosody>\n' +
  'The date is <say-as interpret-as="date" format="mdy">12/25/2026</say-as>.</speak>';
const MSE_TYPES = { mp3: "audio/mpeg", aac: "audio/aac" };
let voices = [];
let session = null; // the playback in progress

window.ttsMetrics = { clickAt: null, firstByteAt: null, lastByteAt: null, firstAudibleAt: null, done: false };

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

function headers(json = true) {
  const h = json ? { "Content-Type": "application/json" } : {};
  const key = $("apikey").value.trim();
  if (key) h.Authorization = `Bearer ${key}`;
  return h;
}

async function errorText(resp) {
  const body = await resp.json().catch(() => ({}));
  const err = body.error;
  return (typeof err === "string" ? err : err && err.message) || `HTTP ${resp.status} ${resp.statusText}`;
}

function fillSelect(select, values, keepFirst = true) {
  while (select.options.length > (keepFirst ? 1 : 0)) select.remove(select.options.length - 1);
  for (const v of values) select.add(new Option(v, v));
}

function showVoices(defaultVoice) {
  const lang = $("language").value;
  const chosen = voices.filter((v) => !lang || v.languages.some((l) => l === lang || l.split("-")[0] === lang));
  const current = $("voice").value || defaultVoice;
  $("voice").innerHTML = "";
  for (const v of chosen) {
    const label = `${v.id}${v.gender ? ` · ${v.gender}` : ""} (${v.languages.join(", ")})`;
    $("voice").add(new Option(label, v.id, v.id === current, v.id === current));
  }
}

async function loadVoices() {
  try {
    const resp = await fetch("/voices", { headers: headers(false) });
    if (!resp.ok) throw new Error(await errorText(resp));
    const body = await resp.json();
    voices = body.voices;
    fillSelect($("language"), body.languages);
    fillSelect($("emotion"), body.emotions || []);
    fillSelect($("style"), body.styles || []);
    showVoices(body.default_voice);
    setStatus(`${voices.length} voice${voices.length === 1 ? "" : "s"} ready`);
  } catch (err) {
    setStatus(`could not load voices: ${err.message}${$("apikey").value ? "" : " (does the server need an API key?)"}`, true);
  }
}

function options() {
  const o = {
    voice: $("voice").value || null, speed: Number($("speed").value), pitch: Number($("pitch").value),
    energy: Number($("volume").value), format: $("format").value, ssml: $("ssml").checked, stream: true,
  };
  if ($("language").value) o.language = $("language").value;
  if ($("emotion").value) o.emotion = $("emotion").value;
  if ($("style").value) o.style = $("style").value;
  return o;
}

function clearResults() {
  const player = $("player");
  player.pause();
  player.removeAttribute("src");
  player.load();
  player.hidden = true;
  const link = $("download");
  if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
  link.hidden = true;
  link.removeAttribute("href");
  $("transcript").hidden = true;
  $("transcript").innerHTML = "";
}

function firstLoud(samples) {
  for (let i = 0; i < samples.length; i++) if (Math.abs(samples[i]) > SILENT) return i;
  return -1;
}

function b64bytes(text) {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
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

// Word highlighting: segment events carry words with offsets into the text as typed (char_start/char_end);
// the transcript shows that text with the spoken words wrapped, the one being spoken marked.
function escapeHtml(text) {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

class Transcript {
  constructor(el, text) { this.el = el; this.text = text; this.items = []; el.hidden = false; this.render(); }
  add(event) {
    for (const w of event.words || []) {
      if (w.char_start !== null && w.char_start !== undefined) this.items.push({ ...w, span: null });
    }
    this.render();
  }
  render() {
    let html = "", pos = 0;
    this.items.forEach((it, i) => {
      if (it.char_start < pos) return;
      html += escapeHtml(this.text.slice(pos, it.char_start)) +
        `<span class="w" data-i="${i}">${escapeHtml(this.text.slice(it.char_start, it.char_end))}</span>`;
      pos = it.char_end;
    });
    this.el.innerHTML = html + escapeHtml(this.text.slice(pos));
    for (const span of this.el.querySelectorAll(".w")) this.items[Number(span.dataset.i)].span = span;
  }
  update(t) {
    for (const it of this.items) {
      if (!it.span) continue;
      const now = t >= it.start_s && t < it.end_s;
      if (now && !it.span.classList.contains("now")) it.span.scrollIntoView({ block: "nearest" });
      it.span.classList.toggle("now", now);
      it.span.classList.toggle("spoken", t >= it.end_s);
    }
  }
}

let audioCtx = null;
let mediaNode = null;
function context() {
  audioCtx = audioCtx || new AudioContext();
  audioCtx.resume();
  return audioCtx;
}

// Raw s16le mono chunks -> AudioBufferSourceNodes scheduled back to back.
class PcmPlayer {
  constructor(rate) {
    this.ctx = context(); this.rate = rate; this.next = 0; this.t0 = null; this.odd = null;
    this.parts = []; this.sources = [];
  }
  push(bytes) {
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
    const now = this.ctx.currentTime;
    const at = Math.max(now + 0.03, this.next);
    if (this.t0 === null) this.t0 = at;
    else if (at > this.next) this.t0 += at - this.next; // an underrun: the stream resumes later
    this.next = at + buf.duration;
    const src = this.ctx.createBufferSource();
    src.buffer = buf;
    src.connect(this.ctx.destination);
    src.start(at);
    this.sources.push(src);
    const loud = firstLoud(data);
    if (loud >= 0 && window.ttsMetrics.firstAudibleAt === null) {
      window.ttsMetrics.firstAudibleAt = performance.now() + (at + loud / this.rate - now) * 1000;
    }
  }
  position() { return this.t0 === null ? -1 : this.ctx.currentTime - this.t0; }
  finish() { return wavFile(this.parts, this.rate); }
  stop() { for (const s of this.sources) { try { s.stop(); } catch (e) { /* not started */ } } }
}

// Encoded chunks -> <audio>: appended to a MediaSource as they come (mp3, aac) or played when complete.
class ElementPlayer {
  constructor(format, contentType) {
    this.format = format; this.type = contentType; this.parts = []; this.queue = []; this.player = $("player");
    this.player.hidden = false;
    watchLoudness(this.player);
    if (MSE_TYPES[format] && window.MediaSource && MediaSource.isTypeSupported(MSE_TYPES[format])) {
      this.source = new MediaSource();
      this.player.src = URL.createObjectURL(this.source);
      this.source.addEventListener("sourceopen", () => {
        this.buffer = this.source.addSourceBuffer(MSE_TYPES[format]);
        this.buffer.mode = "sequence";
        this.buffer.addEventListener("updateend", () => this.drain());
        this.drain();
      }, { once: true });
    }
  }
  push(bytes) {
    this.parts.push(bytes);
    if (!this.source) return;
    this.queue.push(bytes);
    this.drain();
  }
  drain() {
    if (!this.buffer || this.buffer.updating) return;
    if (this.queue.length) {
      this.buffer.appendBuffer(this.queue.shift());
      if (this.player.paused) this.player.play().catch(() => {});
    } else if (this.ended && this.source.readyState === "open") {
      this.source.endOfStream();
    }
  }
  position() { return this.player.currentTime; }
  finish() {
    const blob = new Blob(this.parts, { type: this.type.split(";")[0] });
    this.ended = true;
    if (this.source) this.drain();
    else { this.player.src = URL.createObjectURL(blob); this.player.play().catch(() => {}); }
    return blob;
  }
  stop() { this.player.pause(); }
}

// For <audio> playback: an analyser in the element's audio graph notes the first audible sample.
function watchLoudness(player) {
  const ctx = context();
  if (!mediaNode) {
    mediaNode = ctx.createMediaElementSource(player);
    mediaNode.analyser = ctx.createAnalyser();
    mediaNode.connect(mediaNode.analyser);
    mediaNode.analyser.connect(ctx.destination);
  }
  const data = new Float32Array(mediaNode.analyser.fftSize);
  const timer = setInterval(() => {
    mediaNode.analyser.getFloatTimeDomainData(data);
    if (firstLoud(data) >= 0) {
      if (window.ttsMetrics.firstAudibleAt === null) window.ttsMetrics.firstAudibleAt = performance.now();
      clearInterval(timer);
    }
  }, 10);
  setTimeout(() => clearInterval(timer), 120000);
}

async function* ndjson(resp) {
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let rest = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    rest += value;
    const lines = rest.split("\n");
    rest = lines.pop();
    for (const line of lines) if (line.trim()) yield JSON.parse(line);
  }
  if (rest.trim()) yield JSON.parse(rest);
}

async function speak() {
  window.ttsMetrics = {
    clickAt: performance.now(), firstByteAt: null, lastByteAt: null, firstAudibleAt: null, done: false,
  };
  if (session) session.abort();
  clearResults();
  const format = $("format").value;
  const body = { text: $("text").value, options: options() };
  if (format === "wav") body.options.format = "pcm"; // played as it streams; downloaded as a WAV with sizes
  const abort = new AbortController();
  session = { abort: () => abort.abort(), player: null };
  const mine = session;
  const transcript = new Transcript($("transcript"), body.text);
  $("speak").disabled = true; $("stop").disabled = false; $("status").dataset.bytes = "0";
  setStatus("synthesizing…");
  let received = 0, frame = 0;
  try {
    if (format === "pcm" || format === "wav") context(); // inside the click: audio may start without a gesture later
    const resp = await fetch("/synthesize", { method: "POST", headers: { ...headers(), Accept: "application/x-ndjson" },
                                               body: JSON.stringify(body), signal: abort.signal });
    if (!resp.ok) throw new Error(await errorText(resp));
    const follow = () => { if (mine.player) transcript.update(mine.player.position()); frame = requestAnimationFrame(follow); };
    frame = requestAnimationFrame(follow);
    for await (const msg of ndjson(resp)) {
      if (msg.type === "start") {
        mine.player = msg.format === "pcm" ? new PcmPlayer(msg.sample_rate) : new ElementPlayer(msg.format, msg.content_type);
      } else if (msg.type === "audio") {
        const bytes = b64bytes(msg.audio);
        if (window.ttsMetrics.firstByteAt === null) window.ttsMetrics.firstByteAt = performance.now();
        window.ttsMetrics.lastByteAt = performance.now();
        received += bytes.length;
        $("status").dataset.bytes = String(received);
        mine.player.push(bytes);
        setStatus(`playing · received ${(received / 1024).toFixed(0)} KiB`);
      } else if (msg.type === "segment") {
        transcript.add(msg);
      } else if (msg.type === "error") {
        throw new Error(msg.message);
      }
    }
    const blob = mine.player.finish();
    const link = $("download");
    link.href = URL.createObjectURL(blob);
    link.download = `speech.${format === "pcm" ? "wav" : format}`;
    link.hidden = false;
    const secs = ((performance.now() - window.ttsMetrics.clickAt) / 1000).toFixed(2);
    setStatus(`done · ${(received / 1024).toFixed(0)} KiB in ${secs} s · voice ${resp.headers.get("X-Voice")}`);
  } catch (err) {
    if (mine.player) mine.player.stop();
    cancelAnimationFrame(frame);
    clearResults();
    setStatus(err.name === "AbortError" ? "stopped" : `error: ${err.message}`, err.name !== "AbortError");
  } finally {
    window.ttsMetrics.done = true;
    if (session === mine) { $("speak").disabled = false; $("stop").disabled = true; }
  }
}

function bindSlider(id, unit, digits) {
  const show = () => { $(`${id}-value`).textContent = `${Number($(id).value).toFixed(digits)}${unit}`; };
  $(id).addEventListener("input", show);
  show();
}

$("apikey").value = sessionStorage.getItem(KEY_STORE) || "";
$("apikey").addEventListener("change", () => {
  const key = $("apikey").value.trim();
  if (key) sessionStorage.setItem(KEY_STORE, key); else sessionStorage.removeItem(KEY_STORE);
  loadVoices();
});
$("language").addEventListener("change", () => showVoices());
$("ssml-example").addEventListener("click", () => { $("text").value = SSML_EXAMPLE; $("ssml").checked = true; });
$("stop").addEventListener("click", () => { if (session) { session.abort(); if (session.player) session.player.stop(); } });
$("speak").addEventListener("click", speak);
bindSlider("speed", "×", 2); bindSlider("pitch", " st", 1); bindSlider("volume", " dB", 0);
loadVoices();
