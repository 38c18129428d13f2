/**
 * TypeScript client of tts-predictor for browsers and Node >= 18: synthesize, stream, long-form jobs, voices,
 * normalize. No runtime dependencies: it uses the global `fetch`, `ReadableStream` and `AbortController`.
 * The requests are those of the Python client (clients/python/tts_predictor_client/_core.py) and docs/api.md.
 */

/** Options of /synthesize (docs/api.md): voice, format, speed, language, pitch, energy, sample_rate, ... */
export interface SynthesisOptions {
  voice?: string;
  language?: string;
  format?: string;
  speed?: number;
  pitch?: number;
  energy?: number;
  sample_rate?: number;
  bitrate?: string;
  ssml?: boolean;
  normalize?: boolean;
  [option: string]: unknown;
}

export interface ClientOptions {
  /** The server's HTTP address; default http://localhost:8080. */
  baseUrl?: string;
  /** Sent as `Authorization: Bearer <key>` (servers with TTS_API_KEYS). */
  apiKey?: string;
  /** Milliseconds until the answer's headers arrive (a stream's body may take longer); default 120000. */
  timeoutMs?: number;
  /** Retries of 429/503 answers (after the server's Retry-After) and of network errors; default 2. */
  maxRetries?: number;
  /** Longest Retry-After honoured, in ms; a longer one is raised at once. Default 30000. */
  maxRetryWaitMs?: number;
  /** Called before each retry with (retry number from 1, the error, ms to wait). */
  onRetry?: (retry: number, error: TTSError, waitMs: number) => void;
  /** A fetch of your own (default: the global one). */
  fetch?: typeof fetch;
}

/** An error answer (or no answer): `message` is the server's own message. */
export class TTSError extends Error {
  /** HTTP status; undefined when no answer came (network error, timeout). */
  readonly status?: number;
  /** The parsed error body. */
  readonly body?: unknown;
  /** The server's X-Request-ID. */
  readonly requestId?: string;
  /** Seconds of the answer's Retry-After (429, 503). */
  readonly retryAfterS?: number;

  constructor(message: string, init: { status?: number; body?: unknown; requestId?: string; retryAfterS?: number } = {}) {
    super(message);
    this.name = "TTSError";
    this.status = init.status;
    this.body = init.body;
    this.requestId = init.requestId;
    this.retryAfterS = init.retryAfterS;
  }

  /** The field an OpenAI-shaped error names (`error.param`), if any. */
  get param(): string | undefined {
    const error = (this.body as { error?: { param?: string } } | undefined)?.error;
    return typeof error === "object" && error !== null ? error.param : undefined;
  }
}

/** One synthesized audio file. */
export interface Speech {
  audio: ArrayBuffer;
  contentType: string;
  voice?: string;
  language?: string;
  durationS?: number;
  sampleRate?: number;
  requestId?: string;
}

export interface JobProgress {
  fraction: number;
  chars_done: number;
  chars_total: number;
  audio_s: number;
  eta_s: number | null;
  [field: string]: unknown;
}

export interface Chapter {
  number: number;
  title: string | null;
  start_s: number | null;
  duration_s: number | null;
}

/** A job as GET /v1/jobs/{id} answers it. */
export interface Job {
  id: string;
  state: "queued" | "running" | "completed" | "failed" | "cancelled";
  progress: JobProgress;
  chapters: Chapter[];
  format: string;
  title: string | null;
  error: string | null;
  duration_s: number | null;
  [field: string]: unknown;
}

export interface JobSource {
  text?: string;
  ssml?: string;
  markdown?: string;
  title?: string;
  author?: string;
  options?: SynthesisOptions;
}

export interface Voice {
  id: string;
  languages: string[];
  sample_rate?: number;
  gender?: string;
  engine?: string;
  [field: string]: unknown;
}

export interface VoiceList {
  default_voice: string;
  languages: string[];
  voices: Voice[];
  [field: string]: unknown;
}

const RETRY_STATUSES = new Set([429, 503]);
const FINISHED = new Set(["completed", "failed", "cancelled"]);

/** The message of a KServe/REST (`{"error": "..."}`) or OpenAI (`{"error": {"message": ...}}`) error body. */
export function errorMessage(body: unknown, fallback: string): string {
  const error = (body as { error?: unknown } | null)?.error;
  if (typeof error === "string") return error;
  if (typeof error === "object" && error !== null && typeof (error as { message?: unknown }).message === "string") {
    return (error as { message: string }).message;
  }
  return typeof body === "string" && body.trim() ? body.trim().slice(0, 1000) : fallback;
}

/** Seconds of a Retry-After header (delay-seconds or an HTTP date); undefined when absent. */
export function retryAfterSeconds(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const when = Date.parse(value);
  return Number.isNaN(when) ? undefined : Math.max(0, (when - Date.now()) / 1000);
}

function defined(options: Record<string, unknown> = {}): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined && v !== null));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function statusError(response: Response): Promise<TTSError> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the text is the message
  }
  return new TTSError(errorMessage(body, `HTTP ${response.status}`), {
    status: response.status,
    body,
    requestId: response.headers.get("x-request-id") ?? undefined,
    retryAfterS: retryAfterSeconds(response.headers.get("retry-after")),
  });
}

/** A tts-predictor server: `new TTSClient({ baseUrl: "http://localhost:8080", apiKey })`. */
export class TTSClient {
  readonly baseUrl: string;
  private readonly options: ClientOptions;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ClientOptions = {}) {
    this.options = options;
    this.baseUrl = (options.baseUrl ?? "http://localhost:8080").replace(/\/+$/, "");
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** Send a request, retrying 429/503 after Retry-After and network errors (bounded); the successful response. */
  async request(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.options.apiKey) headers["Authorization"] = `Bearer ${this.options.apiKey}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    for (let retry = 1; ; retry++) {
      let error: TTSError;
      try {
        const response = await this.fetchWithTimeout(this.baseUrl + path, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        if (response.ok) return response;
        error = await statusError(response);
      } catch (exc) {
        if (exc instanceof TTSError) throw exc;
        error = new TTSError(`could not reach the server: ${String(exc)}`);
      }
      const wait = this.retryWaitMs(retry, error);
      if (wait === undefined) throw error;
      this.options.onRetry?.(retry, error, wait);
      await sleep(wait);
    }
  }

  private async fetchWithTimeout(url: string, init: RequestInit): Promise<Response> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.options.timeoutMs ?? 120_000);
    try {
      return await this.fetchImpl(url, { ...init, signal: controller.signal });
    } catch (exc) {
      if (controller.signal.aborted) throw new TTSError(`no answer within ${this.options.timeoutMs ?? 120_000} ms`);
      throw exc;
    } finally {
      clearTimeout(timer); // the headers are in: a stream's body may take as long as the audio
    }
  }

  /** Milliseconds before retry number `retry` after `error`; undefined: do not retry. */
  private retryWaitMs(retry: number, error: TTSError): number | undefined {
    if (retry > (this.options.maxRetries ?? 2)) return undefined;
    const backoff = 500 * 2 ** (retry - 1);
    let wait: number;
    if (error.status !== undefined && RETRY_STATUSES.has(error.status)) {
      wait = error.retryAfterS !== undefined ? error.retryAfterS * 1000 : backoff;
    } else if (error.status === undefined && !error.message.startsWith("no answer")) {
      wait = backoff; // a network error before any answer
    } else {
      return undefined;
    }
    return wait <= (this.options.maxRetryWaitMs ?? 30_000) ? wait : undefined;
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await (await this.request(method, path, body)).json()) as T;
  }

  /** Synthesize `text` (plain or SSML) into one audio file (`format`, default wav). */
  async synthesize(text: string, options: SynthesisOptions = {}): Promise<Speech> {
    const response = await this.request("POST", "/synthesize", { text, options: defined(options) });
    const header = (name: string) => response.headers.get(name) ?? undefined;
    const number = (name: string) => (response.headers.has(name) ? Number(response.headers.get(name)) : undefined);
    return {
      audio: await response.arrayBuffer(),
      contentType: header("content-type") ?? "application/octet-stream",
      voice: header("x-voice"),
      language: header("x-language"),
      durationS: number("x-duration"),
      sampleRate: number("x-sample-rate"),
      requestId: header("x-request-id"),
    };
  }

  /** The audio as a Blob (for an `<audio>` element: `URL.createObjectURL(await client.synthesizeBlob(text))`). */
  async synthesizeBlob(text: string, options: SynthesisOptions = {}): Promise<Blob> {
    const speech = await this.synthesize(text, options);
    return new Blob([speech.audio], { type: speech.contentType });
  }

  /** The audio of `text` as it is synthesized, sentence by sentence (`format` default pcm: s16le mono). */
  async stream(text: string, options: SynthesisOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const body = { text, options: { format: "pcm", ...defined(options), stream: true } };
    const response = await this.request("POST", "/synthesize", body);
    if (!response.body) throw new TTSError("the answer has no body to stream");
    return response.body;
  }

  /** What the engine will speak for `text` (POST /v1/normalize). */
  normalize(text: string, options: { language?: string; voice?: string; ssml?: boolean; normalize?: boolean } = {}) {
    return this.json<{ language: string; voice: string; segments: Array<Record<string, unknown>> }>(
      "POST",
      "/v1/normalize",
      { text, ...defined(options) },
    );
  }

  /** The voices (optionally only those speaking `language`). */
  voices(language?: string): Promise<VoiceList> {
    return this.json("GET", "/v1/voices" + (language ? `?language=${encodeURIComponent(language)}` : ""));
  }

  /** Delete a stored (cloned) voice. */
  async deleteVoice(voiceId: string): Promise<void> {
    await this.request("DELETE", `/v1/voices/${encodeURIComponent(voiceId)}`);
  }

  /** Submit a long text as a job: exactly one of text, ssml, markdown. */
  submitJob(source: JobSource): Promise<Job> {
    return this.json("POST", "/v1/jobs", { ...defined({ ...source }), options: defined(source.options) });
  }

  getJob(jobId: string): Promise<Job> {
    return this.json("GET", `/v1/jobs/${encodeURIComponent(jobId)}`);
  }

  async listJobs(): Promise<Job[]> {
    return (await this.json<{ jobs: Job[] }>("GET", "/v1/jobs")).jobs;
  }

  /** Poll until the job ends; the completed job. Rejects with a TTSError when it failed or was cancelled. */
  async waitJob(
    jobId: string,
    options: { pollIntervalMs?: number; timeoutMs?: number; onProgress?: (job: Job) => void } = {},
  ): Promise<Job> {
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    for (;;) {
      const job = await this.getJob(jobId);
      options.onProgress?.(job);
      if (FINISHED.has(job.state)) {
        if (job.state !== "completed") throw new TTSError(`job ${job.id} ${job.state}: ${job.error ?? "no reason"}`);
        return job;
      }
      if (Date.now() > deadline) throw new TTSError(`job ${jobId} still ${job.state} after ${options.timeoutMs} ms`);
      await sleep(options.pollIntervalMs ?? 1000);
    }
  }

  /** The job's result, or one chapter (from 1). */
  async downloadJob(jobId: string, options: { chapter?: number } = {}): Promise<ArrayBuffer> {
    const query = options.chapter === undefined ? "" : `?chapter=${options.chapter}`;
    return (await this.request("GET", `/v1/jobs/${encodeURIComponent(jobId)}/audio${query}`)).arrayBuffer();
  }

  /** Cancel a running job, or delete a finished one. */
  cancelJob(jobId: string): Promise<Record<string, unknown>> {
    return this.json("DELETE", `/v1/jobs/${encodeURIComponent(jobId)}`);
  }
}
