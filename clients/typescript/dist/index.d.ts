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
export declare class TTSError extends Error {
    /** HTTP status; undefined when no answer came (network error, timeout). */
    readonly status?: number;
    /** The parsed error body. */
    readonly body?: unknown;
    /** The server's X-Request-ID. */
    readonly requestId?: string;
    /** Seconds of the answer's Retry-After (429, 503). */
    readonly retryAfterS?: number;
    constructor(message: string, init?: {
        status?: number;
        body?: unknown;
        requestId?: string;
        retryAfterS?: number;
    });
    /** The field an OpenAI-shaped error names (`error.param`), if any. */
    get param(): string | undefined;
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
/** The message of a KServe/REST (`{"error": "..."}`) or OpenAI (`{"error": {"message": ...}}`) error body. */
export declare function errorMessage(body: unknown, fallback: string): string;
/** Seconds of a Retry-After header (delay-seconds or an HTTP date); undefined when absent. */
export declare function retryAfterSeconds(value: string | null): number | undefined;
/** A tts-predictor server: `new TTSClient({ baseUrl: "http://localhost:8080", apiKey })`. */
export declare class TTSClient {
    readonly baseUrl: string;
    private readonly options;
    private readonly fetchImpl;
    constructor(options?: ClientOptions);
    /** Send a request, retrying 429/503 after Retry-After and network errors (bounded); the successful response. */
    request(method: string, path: string, body?: unknown): Promise<Response>;
    private fetchWithTimeout;
    /** Milliseconds before retry number `retry` after `error`; undefined: do not retry. */
    private retryWaitMs;
    private json;
    /** Synthesize `text` (plain or SSML) into one audio file (`format`, default wav). */
    synthesize(text: string, options?: SynthesisOptions): Promise<Speech>;
    /** The audio as a Blob (for an `<audio>` element: `URL.createObjectURL(await client.synthesizeBlob(text))`). */
    synthesizeBlob(text: string, options?: SynthesisOptions): Promise<Blob>;
    /** The audio of `text` as it is synthesized, sentence by sentence (`format` default pcm: s16le mono). */
    stream(text: string, options?: SynthesisOptions): Promise<ReadableStream<Uint8Array>>;
    /** What the engine will speak for `text` (POST /v1/normalize). */
    normalize(text: string, options?: {
        language?: string;
        voice?: string;
        ssml?: boolean;
        normalize?: boolean;
    }): Promise<{
        language: string;
        voice: string;
        segments: Array<Record<string, unknown>>;
    }>;
    /** The voices (optionally only those speaking `language`). */
    voices(language?: string): Promise<VoiceList>;
    /** Delete a stored (cloned) voice. */
    deleteVoice(voiceId: string): Promise<void>;
    /** Submit a long text as a job: exactly one of text, ssml, markdown. */
    submitJob(source: JobSource): Promise<Job>;
    getJob(jobId: string): Promise<Job>;
    listJobs(): Promise<Job[]>;
    /** Poll until the job ends; the completed job. Rejects with a TTSError when it failed or was cancelled. */
    waitJob(jobId: string, options?: {
        pollIntervalMs?: number;
        timeoutMs?: number;
        onProgress?: (job: Job) => void;
    }): Promise<Job>;
    /** The job's result, or one chapter (from 1). */
    downloadJob(jobId: string, options?: {
        chapter?: number;
    }): Promise<ArrayBuffer>;
    /** Cancel a running job, or delete a finished one. */
    cancelJob(jobId: string): Promise<Record<string, unknown>>;
}
