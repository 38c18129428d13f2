// The admin page: usage per key (hashed), top voices, latency p50/p95, error rates, jobs in flight and the
// feedback list, read from /v1/admin/* with the admin key typed here (kept in this tab only). Charts are inline SVG.
"use strict";

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];
const $ = (id) => document.getElementById(id);

async function api(path, key) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${key}` } });
  const body = await response.json();
  if (!response.ok) throw new Error(`${response.status}: ${(body.error && body.error.message) || body.error}`);
  return body;
}

function cell(row, text, numeric) {
  const td = row.insertCell();
  td.textContent = text === null || text === undefined ? "-" : String(text);
  if (numeric) td.className = "num";
  return td;
}

function sumBy(rows, field) {
  const out = new Map();
  for (const r of rows) {
    const s = out.get(r[field]) || { requests: 0, errors: 0, characters: 0, audio_seconds: 0, cache_hits: 0, buckets: null };
    s.requests += r.requests; s.errors += r.errors; s.characters += r.characters;
    s.audio_seconds += r.audio_seconds; s.cache_hits += r.cache_hits;
    s.buckets = s.buckets ? s.buckets.map((v, i) => v + r.latency_buckets[i]) : r.latency_buckets.slice();
    out.set(r[field], s);
  }
  return out;
}

const EDGES = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];  // tts_predictor/usage/records.py LATENCY_EDGES
function quantile(buckets, q) {
  const total = buckets.reduce((a, b) => a + b, 0);
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i];
    if (total && seen >= q * total) return EDGES[Math.min(i, EDGES.length - 1)];
  }
  return null;
}

function fillKeys(rows) {
  const body = $("keys").tBodies[0];
  body.replaceChildren();
  for (const [key, s] of sumBy(rows, "key")) {
    const row = body.insertRow();
    row.dataset.key = key;
    cell(row, key);
    cell(row, s.requests, true).className = "num requests";
    cell(row, s.errors, true).className = "num errors";
    cell(row, (s.errors / (s.requests || 1)).toFixed(3), true);
    cell(row, s.characters, true).className = "num characters";
    cell(row, s.audio_seconds.toFixed(2), true);
    cell(row, s.cache_hits, true);
    cell(row, quantile(s.buckets, 0.5), true);
    cell(row, quantile(s.buckets, 0.95), true);
  }
}

function fillVoices(rows) {
  const body = $("voices").tBodies[0];
  body.replaceChildren();
  const voices = [...sumBy(rows, "voice")].sort((a, b) => b[1].requests - a[1].requests).slice(0, 10);
  for (const [voice, s] of voices) {
    const row = body.insertRow();
    cell(row, voice); cell(row, s.requests, true); cell(row, s.characters, true);
  }
}

function drawChart(rows) {
  const svg = $("chart"), legend = $("legend"), ns = "http://www.w3.org/2000/svg";
  svg.replaceChildren(); legend.replaceChildren();
  const periods = [...new Set(rows.map((r) => r.period))].sort((a, b) => a - b);
  const keys = [...new Set(rows.map((r) => r.key))];
  const counts = new Map();
  for (const r of rows) counts.set(`${r.key}|${r.period}`, (counts.get(`${r.key}|${r.period}`) || 0) + r.requests);
  const max = Math.max(1, ...counts.values());
  const x = (i) => 30 + (periods.length > 1 ? (i * 560) / (periods.length - 1) : 280);
  const y = (v) => 190 - (v * 170) / max;
  keys.forEach((key, k) => {
    const color = COLORS[k % COLORS.length];
    const points = periods.map((p, i) => `${x(i)},${y(counts.get(`${key}|${p}`) || 0)}`);
    const line = document.createElementNS(ns, periods.length > 1 ? "polyline" : "circle");
    if (periods.length > 1) {
      line.setAttribute("points", points.join(" "));
      line.setAttribute("fill", "none");
      line.setAttribute("stroke", color);
      line.setAttribute("stroke-width", "2");
    } else {
      const [cx, cy] = points[0].split(",");
      line.setAttribute("cx", cx); line.setAttribute("cy", cy); line.setAttribute("r", "4");
      line.setAttribute("fill", color);
    }
    svg.appendChild(line);
    const item = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = color;
    item.append(swatch, key);
    legend.appendChild(item);
  });
  const label = document.createElementNS(ns, "text");
  label.setAttribute("x", "2"); label.setAttribute("y", "20"); label.setAttribute("font-size", "10");
  label.textContent = String(max);
  svg.appendChild(label);
}

function fillFeedback(records) {
  const body = $("feedback").tBodies[0];
  body.replaceChildren();
  for (const f of records) {
    const row = body.insertRow();
    cell(row, f.rating, true).className = "num rating";
    cell(row, f.tags.map((t) => (t.span ? `${t.tag} [${t.span.start}-${t.span.end}]` : t.tag)).join(", "));
    cell(row, f.comment).className = "comment";
    cell(row, f.voice);
    cell(row, f.request_id);
  }
}

async function load(event) {
  if (event) event.preventDefault();
  const key = $("admin-key").value;
  const from = Math.floor(Date.now() / 1000) - Number($("days").value) * 86400;
  $("error").textContent = "";
  try {
    const [usage, feedback, status] = await Promise.all([
      api(`/v1/admin/usage?from=${from}&group=hour`, key),
      api("/v1/admin/feedback?limit=100", key),
      api("/v1/admin/status", key),
    ]);
    $("status").textContent =
      `in flight: ${status.in_flight_requests} · queued: ${status.queued_requests} · jobs running: ${status.jobs_running}`;
    fillKeys(usage.rows); fillVoices(usage.rows); drawChart(usage.rows); fillFeedback(feedback.feedback);
    document.body.dataset.loaded = "true";
  } catch (error) {
    $("error").textContent = error.message;
  }
}

$("login").addEventListener("submit", load);
