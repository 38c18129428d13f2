// Drives the compiled client (dist/index.js) against real servers; prints one JSON object of what it saw and
// writes the audio it got under OUT_DIR, for tests/server/test_sdk_typescript.py to check with its own decoders.
// Usage: node test/run.mjs URL API_KEY LIMITED_URL OUT_DIR
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TTSClient, TTSError } from "../dist/index.js";

const [url, apiKey, limitedUrl, outDir] = process.argv.slice(2);
const client = new TTSClient({ baseUrl: url, apiKey });
const out = {};
const save = (name, data) => writeFile(join(outDir, name), new Uint8Array(data));
const caught = async (promise) => {
  try {
    await promise;
    return { thrown: false };
  } catch (error) {
    return { thrown: true, isTTSError: error instanceof TTSError, status: error.status, message: error.message,
             retryAfterS: error.retryAfterS, param: error.param };
  }
};

const speech = await client.synthesize("Hello from the TypeScript client.", { format: "wav", speed: 1.1 });
await save("speech.wav", speech.audio);
out.synthesize = { contentType: speech.contentType, voice: speech.voice, durationS: speech.durationS };
const blob = await client.synthesizeBlob("A blob.", { format: "mp3" });
out.blob = { type: blob.type, size: blob.size };

const chunks = [];
for await (const chunk of await client.stream("The first sentence is short. The second one follows it.")) {
  chunks.push(chunk);
}
await save("stream.pcm", Buffer.concat(chunks));
out.stream = { chunks: chunks.length };

const markdown = "# Harbour\n\nThe boats came home at noon.\n\n## Market\n\nFish were sold on the quay.";
const job = await client.submitJob({ markdown, title: "Harbour", options: { format: "wav" } });
const states = [];
const done = await client.waitJob(job.id, { pollIntervalMs: 200, timeoutMs: 240000, onProgress: (j) => states.push(j.state) });
await save("job.wav", await client.downloadJob(job.id));
await save("chapter2.wav", await client.downloadJob(job.id, { chapter: 2 }));
out.job = { submitted: job.state, states, state: done.state, fraction: done.progress.fraction,
            durationS: done.duration_s, chapters: done.chapters, listed: (await client.listJobs()).map((j) => j.id).includes(job.id) };

const voices = await client.voices();
out.voices = { ids: voices.voices.map((v) => v.id), default: voices.default_voice, german: (await client.voices("de")).voices.length };
out.normalize = await client.normalize("I have 3 apples.", { language: "en-US" });

out.errors = {
  restVoice: await caught(client.synthesize("Hi.", { voice: "nobody" })),
  jobVoice: await caught(client.submitJob({ text: "Hi.", options: { voice: "nobody" } })),
  wrongKey: await caught(new TTSClient({ baseUrl: url, apiKey: "wrong-key" }).voices()),
};

const retries = [];
const eager = new TTSClient({ baseUrl: limitedUrl, maxRetries: 0 });
await eager.voices();
out.rateLimit = { eager: await caught(eager.voices()) };
const patient = new TTSClient({ baseUrl: limitedUrl, maxRetries: 3, onRetry: (n, e, ms) => retries.push({ n, status: e.status, ms }) });
out.rateLimit.patient = await caught(patient.voices());
out.rateLimit.retries = retries;
console.log(JSON.stringify(out));
