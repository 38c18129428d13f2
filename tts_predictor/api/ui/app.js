// tts-predictor web UI: POST /synthesize as NDJSON (base64 audio + segment events), played while it streams
// (the players are in player.js). One playback at a time: Speak, a replay or Stop ends the one in progress (its
// fetch aborted, its queued buffers and element stopped) before anything new starts. Stop and Pause stay usable
// until the audio has really ended, not only the download. window.ttsMetrics records performance.now() at the
// click, the first and last audio bytes and the current clip's first audible sample, for tests.
"use strict";
const $ = (id) => document.getElementById(id);
const KEY_STORE = "tts-api-key";
const HISTORY_SIZE = 5;
const SSML_EXAMPLE = '<speak>Hello! <break time="400ms"/> This is <emphasis>SSML</emphasis>.\n' +
  '<prosody rate="slow">It can slow down,</prosody> <prosody pitch="+3st">or go higher.</prosody>\n' +
  'The date is <say-as interpret-as="date" format="mdy">12/25/2026</say-as>.</speak>';
let voices = [];
let maxChars = null; // the server's TTS_MAX_TEXT_CHARS, from GET /config
let current = null; // the Playback in progress
const history = []; // {text, format, url, name}, newest first

function freshMetrics() {
  return { clickAt: performance.now(), firstByteAt: null, lastByteAt: null, firstAudibleAt: null, done: false,
           ended: false, state: "loading" };
}
window.ttsMetrics = { ...freshMetrics(), clickAt: null, done: true, ended: true, state: "idle" };

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
    // a formant fallback voice (espeak-<tag>) names its language in its id: no list that would widen the select
    const label = v.quality === "formant"
      ? `${v.id} · formant`
      : `${v.id}${v.gender ? ` · ${v.gender}` : ""} (${v.languages.join(", ")})`;
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
    loadLimit();
  } catch (err) {
    setStatus(`could not load voices: ${err.message}${$("apikey").value ? "" : " (does the server need an API key?)"}`, true);
  }
}

async function loadLimit() {
  const resp = await fetch("/config", { headers: headers(false) }).catch(() => null);
  const body = resp && resp.ok ? await resp.json().catch(() => ({})) : {};
  maxChars = Number.isInteger(body.max_text_chars) ? body.max_text_chars : null;
  countChars();
}

// The server counts code points (Python's len), so the page does too.
function countChars() {
  const n = [...$("text").value].length;
  const over = maxChars !== null && n > maxChars;
  $("count").textContent = maxChars === null ? `${n} characters` :
    `${n.toLocaleString("en")} / ${maxChars.toLocaleString("en")} characters` +
    (over ? ` · ${(n - maxChars).toLocaleString("en")} over the limit` : "");
  $("count").classList.toggle("over", over);
  $("count").classList.toggle("near", !over && maxChars !== null && n > 0.9 * maxChars);
  $("speak").disabled = over;
  $("speak").title = over ? "The text is longer than the server accepts" : "";
}

function speedValue() { return Math.round(2 ** Number($("speed").value) * 100) / 100; } // slider: log2 of the speed

function options() {
  const o = {
    voice: $("voice").value || null, speed: speedValue(), pitch: Number($("pitch").value),
    energy: Number($("volume").value), format: $("format").value, ssml: $("ssml").checked, stream: true,
  };
  if ($("language").value) o.language = $("language").value;
  if ($("emotion").value) o.emotion = $("emotion").value;
  if ($("style").value) o.style = $("style").value;
  return o;
}

function clearResults() {
  $("rate").hidden = true;
  $("download").hidden = true;
  $("download").removeAttribute("href");
  $("transcript").hidden = true;
  $("transcript").innerHTML = "";
}

function b64bytes(text) {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
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

// One clip from Speak (or a replay) to its end: the fetch, the player, the buttons and the status line.
class Playback {
  constructor(metrics) {
    this.metrics = metrics; this.fetcher = new AbortController(); this.player = null; this.received = 0;
    this.downloading = true; this.paused = false; this.over = false; this.frame = 0; this.transcript = null;
    this.hooks = {
      audible: (t) => { if (this.metrics.firstAudibleAt === null) this.metrics.firstAudibleAt = t; this.show(); },
      ended: () => this.end("done"),
      paused: (p) => { this.paused = p; this.show(); },
    };
  }
  attach(player) {
    this.player = player;
    if (player.el) { player.el.id = "player"; $("player").replaceWith(player.el); }
    const follow = () => {
      if (this.over) return;
      if (this.transcript && this.player) this.transcript.update(this.player.position());
      this.frame = requestAnimationFrame(follow);
    };
    this.frame = requestAnimationFrame(follow);
  }
  show(note = "") {
    if (this.over) return;
    const heard = this.metrics.firstAudibleAt !== null;
    this.metrics.state = this.paused ? "paused" : (heard ? "playing" : "loading");
    const kib = `${(this.received / 1024).toFixed(0)} KiB`;
    const words = { loading: this.downloading ? "synthesizing…" : "starting…", paused: "paused", playing: "playing" };
    this.note = note || this.note || "";
    note = this.note;
    setStatus(`${words[this.metrics.state]} · ${this.downloading ? `received ${kib}` : `all ${kib} received`}${note}`);
    $("pause").disabled = !this.player || this.metrics.state === "loading";
    $("pause").textContent = this.paused ? "Resume" : "Pause";
    $("stop").disabled = false;
  }
  togglePause() {
    if (!this.player || this.over) return;
    this.paused = !this.paused;
    if (this.paused) this.player.pause(); else this.player.resume();
    this.show();
  }
  // Everything this clip started ends here: the request, every queued buffer, the element, the highlighting.
  end(state, message = "") {
    if (this.over) return;
    this.over = true;
    this.fetcher.abort();
    if (this.player) this.player.stop();
    cancelAnimationFrame(this.frame);
    this.metrics.state = state;
    this.metrics.ended = true;
    if (current === this) {
      current = null;
      $("stop").disabled = true; $("pause").disabled = true; $("pause").textContent = "Pause";
      const secs = ((performance.now() - this.metrics.clickAt) / 1000).toFixed(1);
      const text = { done: `done · ${(this.received / 1024).toFixed(0)} KiB, ${secs} s`, stopped: "stopped" }[state];
      setStatus(text || `error: ${message}`, state === "error");
    }
  }
}

function begin() {
  if (current) current.end("stopped");
  const placeholder = document.createElement("audio");
  placeholder.id = "player"; placeholder.hidden = true;
  $("player").replaceWith(placeholder);
  window.ttsMetrics = freshMetrics();
  current = new Playback(window.ttsMetrics);
  $("stop").disabled = false; $("pause").disabled = true; $("pause").textContent = "Pause";
  return current;
}

async function speak() {
  const format = $("format").value;
  const body = { text: $("text").value, options: options() };
  if (format === "wav") body.options.format = "pcm"; // played as it streams; downloaded as a WAV with sizes
  const mine = begin();
  clearResults();
  $("status").dataset.bytes = "0";
  setStatus("synthesizing…");
  try {
    if (format === "pcm" || format === "wav") audioContext(); // inside the click: audio may start without a gesture later
    const resp = await fetch("/synthesize", { method: "POST", headers: { ...headers(), Accept: "application/x-ndjson" },
                                               body: JSON.stringify(body), signal: mine.fetcher.signal });
    if (!resp.ok) throw new Error(await errorText(resp));
    if (mine.over) return;
    mine.transcript = new Transcript($("transcript"), body.text);
    await receive(mine, resp);
    if (mine.over) return;
    mine.downloading = false;
    const blob = mine.player.finish();
    keep(blob, body.text, format === "pcm" ? "wav" : format);
    mine.show(` · voice ${resp.headers.get("X-Voice")}`);
    askRating(resp.headers.get("X-Request-Id"));
  } catch (err) {
    if (err.name === "AbortError" || mine.over) return;
    if (current === mine) clearResults();
    mine.end("error", err.message);
  } finally {
    mine.downloading = false;
    mine.metrics.done = true;
  }
}

// Thumbs up/down on the last clip: POST /v1/feedback with its request id (rating 5 or 1).
let ratedId = null;
function askRating(requestId) {
  ratedId = requestId;
  $("rate").hidden = !requestId;
}

async function rate(rating) {
  const id = ratedId;
  $("rate").hidden = true;
  const resp = await fetch("/v1/feedback", { method: "POST", headers: headers(),
                                             body: JSON.stringify({ request_id: id, rating }) });
  setStatus(resp.ok ? "thanks for the feedback" : await errorText(resp), !resp.ok);
}

async function receive(mine, resp) {
  for await (const msg of ndjson(resp)) {
    if (mine.over) return;
    if (msg.type === "start") {
      mine.attach(msg.format === "pcm" ? new PcmPlayer(msg.sample_rate, mine.hooks)
        : new ElementPlayer(msg.format, msg.content_type, mine.hooks));
    } else if (msg.type === "audio") {
      const bytes = b64bytes(msg.audio);
      if (mine.metrics.firstByteAt === null) mine.metrics.firstByteAt = performance.now();
      mine.metrics.lastByteAt = performance.now();
      mine.received += bytes.length;
      $("status").dataset.bytes = String(mine.received);
      mine.player.push(bytes);
      mine.show();
    } else if (msg.type === "segment") {
      mine.transcript.add(msg);
    } else if (msg.type === "error") {
      throw new Error(msg.message);
    }
  }
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

// The last clips, newest first, each with its own object URL (revoked when the clip leaves the list).
function keep(blob, text, ext) {
  const url = URL.createObjectURL(blob);
  const words = text.replace(/\s+/g, " ").trim();
  history.unshift({ url, ext, size: blob.size, text: words, name: `speech-${new Date().toISOString().slice(11, 19).replace(/:/g, "")}.${ext}` });
  for (const old of history.splice(HISTORY_SIZE)) URL.revokeObjectURL(old.url);
  $("download").href = url;
  $("download").download = history[0].name;
  $("download").hidden = false;
  showHistory();
}

function showHistory() {
  const list = $("history-list");
  list.innerHTML = "";
  for (const clip of history) {
    const li = document.createElement("li");
    const label = document.createElement("span");
    label.className = "clip";
    label.textContent = clip.text.length > 60 ? `${clip.text.slice(0, 60)}…` : clip.text;
    label.title = clip.text;
    const replay = document.createElement("button");
    replay.type = "button"; replay.className = "replay"; replay.textContent = "Replay";
    replay.addEventListener("click", () => playClip(clip));
    const save = document.createElement("a");
    save.className = "button save"; save.href = clip.url; save.download = clip.name; save.textContent = `Save .${clip.ext}`;
    li.append(label, replay, save);
    list.append(li);
  }
  $("history").hidden = history.length === 0;
}

function playClip(clip) {
  const mine = begin();
  mine.downloading = false; mine.metrics.done = true; mine.received = clip.size;
  mine.attach(new ElementPlayer(clip.ext, "", mine.hooks, clip.url));
  mine.show(" · replay");
}

function bindSlider(id, show) {
  const update = () => { $(`${id}-value`).textContent = show(); };
  $(id).addEventListener("input", update);
  update();
}

$("apikey").value = sessionStorage.getItem(KEY_STORE) || "";
$("apikey").addEventListener("change", () => {
  const key = $("apikey").value.trim();
  if (key) sessionStorage.setItem(KEY_STORE, key); else sessionStorage.removeItem(KEY_STORE);
  loadVoices();
});
$("language").addEventListener("change", () => showVoices());
$("ssml-example").addEventListener("click", () => {
  $("text").value = SSML_EXAMPLE; $("ssml").checked = true; countChars();
});
$("text").addEventListener("input", countChars);
$("stop").addEventListener("click", () => { if (current) current.end("stopped"); });
$("pause").addEventListener("click", () => { if (current) current.togglePause(); });
$("speak").addEventListener("click", speak);
$("thumbs-up").addEventListener("click", () => rate(5));
$("thumbs-down").addEventListener("click", () => rate(1));
bindSlider("speed", () => `${speedValue().toFixed(2)}×`);
bindSlider("pitch", () => `${Number($("pitch").value).toFixed(1)} st`);
bindSlider("volume", () => `${Number($("volume").value).toFixed(0)} dB`);
countChars();
loadVoices();
