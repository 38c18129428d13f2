/**
 * TypeScript client of tts-predictor for browsers and Node >= 18: synthesize, stream, long-form jobs, voices,
 * normalize. No runtime dependencies: it uses the global `fetch`, `ReadableStream` and `AbortController`.
 * The requests are those of the Python client (clients/python/tts_predictor_client/_core.py) and docs/api.md.
 */
/** An error answer (or no answer): `message` is the server's own message. */
export class TTSError extends Error {
    /** HTTP status; undefined when no answer came (network error, timeout). */
    status;
    /** The parsed error body. */
    body;
    /** The server's X-Request-ID. */
    requestId;
    /** Seconds of the answer's Retry-After (429, 503). */
    retryAfterS;
    constructor(message, init = {}) {
        super(message);
        this.name = "TTSError";
        this.status = init.status;
        this.body = init.body;
        this.requestId = init.requestId;
        this.retryAfterS = init.retryAfterS;
    }
    /** The field an OpenAI-shaped error names (`error.param`), if any. */
    get param() {
        const error = this.body?.error;
        return typeof error === "object" && error !== null ? error.param : undefined;
    }
}
const RETRY_STATUSES = new Set([429, 503]);
const FINISHED = new Set(["completed", "failed", "cancelled"]);
/** The message of a KServe/REST (`{"error": "..."}`) or OpenAI (`{"error": {"message": ...}}`) error body. */
export function errorMessage(body, fallback) {
    const error = body?.error;
    if (typeof error === "string")
        return error;
    if (typeof error === "object" && error !== null && typeof error.message === "string") {
        return error.message;
    }
    return typeof body === "string" && body.trim() ? body.trim().slice(0, 1000) : fallback;
}
/** Seconds of a Retry-After header (delay-seconds or an HTTP date); undefined when absent. */
export function retryAfterSeconds(value) {
    if (!value)
        return undefined;
    if (/^\d+$/.test(value.trim()))
        return Number(value.trim());
    const when = Date.parse(value);
    return Number.isNaN(when) ? undefined : Math.max(0, (when - Date.now()) / 1000);
}
function defined(options = {}) {
    return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined && v !== null));
}
function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}
async function statusError(response) {
    const text = await response.text();
    let body = text;
    try {
        body = JSON.parse(text);
    }
    catch {
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
    baseUrl;
    options;
    fetchImpl;
    constructor(options = {}) {
        this.options = options;
        this.baseUrl = (options.baseUrl ?? "http://localhost:8080").replace(/\/+$/, "");
        this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    }
    /** Send a request, retrying 429/503 after Retry-After and network errors (bounded); the successful response. */
    async request(method, path, body) {
        const headers = {};
        if (this.options.apiKey)
            headers["Authorization"] = `Bearer ${this.options.apiKey}`;
        if (body !== undefined)
            headers["Content-Type"] = "application/json";
        for (let retry = 1;; retry++) {
            let error;
            try {
                const response = await this.fetchWithTimeout(this.baseUrl + path, {
                    method,
                    headers,
                    body: body === undefined ? undefined : JSON.stringify(body),
                });
                if (response.ok)
                    return response;
                error = await statusError(response);
            }
            catch (exc) {
                if (exc instanceof TTSError)
                    throw exc;
                error = new TTSError(`could not reach the server: ${String(exc)}`);
            }
            const wait = this.retryWaitMs(retry, error);
            if (wait === undefined)
                throw error;
            this.options.onRetry?.(retry, error, wait);
            await sleep(wait);
        }
    }
    async fetchWithTimeout(url, init) {
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(), this.options.timeoutMs ?? 120_000);
        try {
            return await this.fetchImpl(url, { ...init, signal: controller.signal });
        }
        catch (exc) {
            if (controller.signal.aborted)
                throw new TTSError(`no answer within ${this.options.timeoutMs ?? 120_000} ms`);
            throw exc;
        }
        finally {
            clearTimeout(timer); // the headers are in: a stream's body may take as long as the audio
        }
    }
    /** Milliseconds before retry number `retry` after `error`; undefined: do not retry. */
    retryWaitMs(retry, error) {
        if (retry > (this.options.maxRetries ?? 2))
            return undefined;
        const backoff = 500 * 2 ** (retry - 1);
        let wait;
        if (error.status !== undefined && RETRY_STATUSES.has(error.status)) {
            wait = error.retryAfterS !== undefined ? error.retryAfterS * 1000 : backoff;
        }
        else if (error.status === undefined && !error.message.startsWith("no answer")) {
            wait = backoff; // a network error before any answer
        }
        else {
            return undefined;
        }
        return wait <= (this.options.maxRetryWaitMs ?? 30_000) ? wait : undefined;
    }
    async json(method, path, body) {
        return (await (await this.request(method, path, body)).json());
    }
    /** Synthesize `text` (plain or SSML) into one audio file (`format`, default wav). */
    async synthesize(text, options = {}) {
        const response = await this.request("POST", "/synthesize", { text, options: defined(options) });
        const header = (name) => response.headers.get(name) ?? undefined;
        const number = (name) => (response.headers.has(name) ? Number(response.headers.get(name)) : undefined);
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
    async synthesizeBlob(text, options = {}) {
        const speech = await this.synthesize(text, options);
        return new Blob([speech.audio], { type: speech.contentType });
    }
    /** The audio of `text` as it is synthesized, sentence by sentence (`format` default pcm: s16le mono). */
    async stream(text, options = {}) {
        const body = { text, options: { format: "pcm", ...defined(options), stream: true } };
        const response = await this.request("POST", "/synthesize", body);
        if (!response.body)
            throw new TTSError("the answer has no body to stream");
        return response.body;
    }
    /** What the engine will speak for `text` (POST /v1/normalize). */
    normalize(text, options = {}) {
        return this.json("POST", "/v1/normalize", { text, ...defined(options) });
    }
    /** The voices (optionally only those speaking `language`). */
    voices(language) {
        return this.json("GET", "/v1/voices" + (language ? `?language=${encodeURIComponent(language)}` : ""));
    }
    /** Delete a stored (cloned) voice. */
    async deleteVoice(voiceId) {
        await this.request("DELETE", `/v1/voices/${encodeURIComponent(voiceId)}`);
    }
    /** Submit a long text as a job: exactly one of text, ssml, markdown. */
    submitJob(source) {
        return this.json("POST", "/v1/jobs", { ...defined({ ...source }), options: defined(source.options) });
    }
    getJob(jobId) {
        return this.json("GET", `/v1/jobs/${encodeURIComponent(jobId)}`);
    }
    async listJobs() {
        return (await this.json("GET", "/v1/jobs")).jobs;
    }
    /** Poll until the job ends; the completed job. Rejects with a TTSError when it failed or was cancelled. */
    async waitJob(jobId, options = {}) {
        const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
        for (;;) {
            const job = await this.getJob(jobId);
            options.onProgress?.(job);
            if (FINISHED.has(job.state)) {
                if (job.state !== "completed")
                    throw new TTSError(`job ${job.id} ${job.state}: ${job.error ?? "no reason"}`);
                return job;
            }
            if (Date.now() > deadline)
                throw new TTSError(`job ${jobId} still ${job.state} after ${options.timeoutMs} ms`);
            await sleep(options.pollIntervalMs ?? 1000);
        }
    }
    /** The job's result, or one chapter (from 1). */
    async downloadJob(jobId, options = {}) {
        const query = options.chapter === undefined ? "" : `?chapter=${options.chapter}`;
        return (await this.request("GET", `/v1/jobs/${encodeURIComponent(jobId)}/audio${query}`)).arrayBuffer();
    }
    /** Cancel a running job, or delete a finished one. */
    cancelJob(jobId) {
        return this.json("DELETE", `/v1/jobs/${encodeURIComponent(jobId)}`);
    }
}
