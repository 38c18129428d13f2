// tts-predictor web UI: fills voices from GET /voices, speaks through POST /synthesize (streamed).
"use strict";
const $ = (id) => document.getElementById(id);
let lastUrl = null;

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

async function loadVoices() {
  try {
    const resp = await fetch("/voices");
    const body = await resp.json();
    if (!resp.ok) throw new Error(body.error || resp.statusText);
    $("voice").innerHTML = "";
    for (const v of body.voices) {
      const opt = new Option(`${v.id} (${v.languages.join(", ")})`, v.id, v.id === body.default_voice, v.id === body.default_voice);
      $("voice").add(opt);
    }
    for (const lang of body.languages) $("language").add(new Option(lang, lang));
  } catch (err) {
    setStatus(`could not load voices: ${err.message}`, true);
  }
}

async function speak() {
  const format = $("format").value;
  const options = { voice: $("voice").value || null, speed: Number($("speed").value), format, stream: true };
  if ($("language").value) options.language = $("language").value;
  $("speak").disabled = true;
  $("status").dataset.bytes = "0";
  setStatus("synthesizing…");
  const started = performance.now();
  try {
    const resp = await fetch("/synthesize", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: $("text").value, options }),
    });
    if (!resp.ok) {
      const body = await resp.json().catch(() => ({}));
      throw new Error(body.error || `HTTP ${resp.status}`);
    }
    const reader = resp.body.getReader();
    const parts = [];
    let received = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      received += value.length;
      $("status").dataset.bytes = String(received);
      setStatus(`received ${received} bytes…`);
    }
    const type = resp.headers.get("Content-Type") || "application/octet-stream";
    const blob = new Blob(parts, { type: type.split(";")[0] });
    if (lastUrl) URL.revokeObjectURL(lastUrl);
    lastUrl = URL.createObjectURL(blob);
    $("player").src = lastUrl;
    $("download").href = lastUrl;
    $("download").download = `speech.${format}`;
    $("download").hidden = false;
    const secs = ((performance.now() - started) / 1000).toFixed(2);
    setStatus(`received ${received} bytes in ${secs} s (voice ${resp.headers.get("X-Voice")})`);
    $("player").play().catch(() => {});
  } catch (err) {
    setStatus(`error: ${err.message}`, true);
  } finally {
    $("speak").disabled = false;
  }
}

$("speed").addEventListener("input", () => { $("speed-value").textContent = `${Number($("speed").value).toFixed(2)}×`; });
$("speak").addEventListener("click", speak);
loadVoices();
