/**
 * One error hierarchy for every LLM outcome that is not a completion, and the one place that
 * decides retryability. Temporal alone retries (the HTTP client never does), so each error says
 * whether a retry can help and, when the server said so, how long to wait first.
 * Plain data only: the activity turns `toApplicationFailureOptions` into an ApplicationFailure.
 */

/** What the error messages need to say what to fix; never holds the API key itself. */
export interface LlmErrorContext {
  /** Endpoint base URL, e.g. `http://127.0.0.1:8000/v1`. */
  baseURL?: string;
  /** Model name the request asked for. */
  model?: string;
  /** Name of the environment variable holding the key, e.g. `ULTRALINK_LLM_API_KEY`. */
  keyEnvVar?: string;
  /** Strings to scrub from server-provided text before it enters a message (the key). */
  secrets?: string[];
  /** Clock for HTTP-date Retry-After values (tests pin it). */
  now?: number;
}

/** Fields every LLM error carries. */
export interface LlmErrorOptions {
  status?: number;
  retryable: boolean;
  retryAfterMs?: number;
  code?: string;
  cause?: unknown;
}

/** Base of the hierarchy; `retryable` is the single source of truth for retry decisions. */
export class LlmError extends Error {
  readonly status?: number;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly code?: string;

  constructor(message: string, opts: LlmErrorOptions) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.status = opts.status;
    this.retryable = opts.retryable;
    this.retryAfterMs = opts.retryAfterMs;
    this.code = opts.code;
  }
}

/** 429 rate limit: retry after the server's Retry-After. */
export class LlmRateLimitError extends LlmError {}
/** 429 `insufficient_quota`: the account is out of credit; retrying cannot help. */
export class LlmQuotaError extends LlmError {}
/** 5xx (and 408/409): transient server trouble. */
export class LlmServerError extends LlmError {}
/** The request never got an HTTP answer: refused, reset, DNS failure, timeout. */
export class LlmConnectionError extends LlmError {}
/** 401/403: the key is missing, wrong or lacks permission. */
export class LlmAuthError extends LlmError {}
/** 400/422 (and other 4xx): the request itself is wrong (context length, model params). */
export class LlmBadRequestError extends LlmError {}
/**
 * The endpoint cannot give the structured output asked for (`response_format`), whatever status it said it with:
 * llama-cpp-python answers 500 to `json_schema`. A capability, not an outage: the OpenAI backend steps down its ladder.
 */
export class LlmCapabilityError extends LlmBadRequestError {}
/** 404: the model is not served or the base URL is wrong. */
export class LlmNotFoundError extends LlmError {}
/** 2xx with an unusable body (unparseable JSON, no choices): retryable. */
export class LlmMalformedResponseError extends LlmError {}

/** Header bag as found on fetch `Headers` or node's `IncomingHttpHeaders`. */
export type HeaderSource = Headers | Record<string, string | string[] | number | undefined> | undefined | null;

function header(headers: HeaderSource, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const bag = headers as Record<string, string | string[] | number | undefined>;
  const key = Object.keys(bag).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : bag[key];
  return Array.isArray(value) ? value[0] : value === undefined ? undefined : String(value);
}

/** Delay the server asked for: `retry-after-ms`, then `retry-after` (seconds or HTTP date); undefined when absent or unparseable. */
export function parseRetryAfterMs(headers: HeaderSource, now: number = Date.now()): number | undefined {
  const ms = header(headers, 'retry-after-ms');
  if (ms !== undefined && ms.trim() !== '') {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return Math.round(value);
  }
  const ra = header(headers, 'retry-after');
  if (ra === undefined || ra.trim() === '') return undefined;
  const seconds = Number(ra);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.round(seconds * 1000) : undefined;
  const date = Date.parse(ra);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

interface ErrorBody {
  message?: string;
  code?: string;
  type?: string;
}

/** Reads the error shapes of OpenAI (`{error:{message,code,type}}`), vLLM, llama.cpp, Ollama (`{error:"…"}`) and FastAPI (`{detail}`). */
function parseErrorBody(body: unknown): ErrorBody {
  let data = body;
  if (typeof body === 'string') {
    try {
      data = JSON.parse(body);
    } catch {
      return { message: body.trim() || undefined };
    }
  }
  if (!data || typeof data !== 'object') return {};
  const top = data as Record<string, unknown>;
  const inner = top.error && typeof top.error === 'object' ? (top.error as Record<string, unknown>) : top;
  const str = (v: unknown): string | undefined =>
    typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
  const message =
    str(inner.message) ??
    str(top.error) ??
    (top.detail === undefined ? undefined : typeof top.detail === 'string' ? top.detail : JSON.stringify(top.detail));
  return { message, code: str(inner.code), type: str(inner.type) };
}

/** Removes the given secrets and anything shaped like an API key from server-provided text. */
export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('[redacted]');
  return out.replace(/\b(sk-[A-Za-z0-9_*.-]{4,})/g, '[redacted]').replace(/(Bearer\s+)\S+/gi, '$1[redacted]');
}

const CONTEXT_LENGTH = /context[_ ]length|context window|maximum context|too many tokens|prompt is too long|exceeds? the (?:model'?s? )?(?:maximum|max)/i;
const STRUCTURED_OUTPUT = /response_format|json_schema|json_object|guided|grammar/i;
const MAX_COMPLETION_TOKENS = /max_completion_tokens/i;

/** True when a 400 says the prompt plus max tokens overflow the model's context window. */
export function isContextLengthError(err: unknown): boolean {
  return err instanceof LlmBadRequestError && (err.code === 'context_length_exceeded' || CONTEXT_LENGTH.test(err.message));
}

/** True when a 400 names `max_completion_tokens` (OpenAI reasoning models reject `max_tokens`). */
export function wantsMaxCompletionTokens(err: unknown): boolean {
  return err instanceof LlmBadRequestError && MAX_COMPLETION_TOKENS.test(err.message);
}

function where(ctx: LlmErrorContext): string {
  return ctx.baseURL ? `LLM endpoint ${ctx.baseURL}` : 'LLM endpoint';
}

/** Maps one HTTP answer (status, headers, raw or parsed body) to the hierarchy; the message says what to fix. */
export function errorFromHttp(status: number, headers: HeaderSource, body: unknown, ctx: LlmErrorContext = {}): LlmError {
  const parsed = parseErrorBody(body);
  const detail = parsed.message ? scrubSecrets(parsed.message, ctx.secrets).slice(0, 500) : '';
  const said = detail ? `: ${detail}` : '';
  const code = parsed.code ?? parsed.type;
  const retryAfterMs = parseRetryAfterMs(headers, ctx.now);
  const model = ctx.model ? `'${ctx.model}'` : 'the configured model';
  const keyVar = ctx.keyEnvVar ?? 'the API key variable';

  if (status === 429) {
    if (parsed.code === 'insufficient_quota' || parsed.type === 'insufficient_quota') {
      return new LlmQuotaError(
        `${where(ctx)} answered 429 insufficient_quota: the account is out of credit. ` +
          `Add credit or raise the plan's quota, or use a key (${keyVar}) for an account that has credit; retrying cannot help${said}`,
        { status, retryable: false, code: 'insufficient_quota' },
      );
    }
    return new LlmRateLimitError(`${where(ctx)} rate limit (429)${said}`, { status, retryable: true, retryAfterMs, code });
  }
  if (status === 401 || status === 403) {
    const what = status === 401 ? 'rejected the API key' : 'refused access with this API key';
    return new LlmAuthError(
      `${where(ctx)} ${what} (${status}). Set ${keyVar} in the worker's environment to a valid key` +
        `${status === 403 ? ` with access to model ${model}` : ''} and restart the worker${said}`,
      { status, retryable: false, code },
    );
  }
  if (status === 404) {
    const aboutModel = parsed.code === 'model_not_found' || /model/i.test(detail);
    const fix = aboutModel
      ? `model ${model} is not served there; fix llm.model (\`ultralink doctor\` lists the served models)`
      : `it has no chat completions route; fix llm.baseURL (OpenAI-compatible servers usually want it to end in /v1)`;
    return new LlmNotFoundError(`${where(ctx)} answered 404: ${fix}${said}`, {
      status,
      retryable: false,
      code: code ?? (aboutModel ? 'model_not_found' : 'route_not_found'),
    });
  }
  const contextLength = parsed.code === 'context_length_exceeded' || CONTEXT_LENGTH.test(detail);
  // 500 too: llama-cpp-python wraps its request validation ("Input should be 'text' or 'json_object'") in a 500.
  if ((status === 500 || (status >= 400 && status < 500 && status !== 408 && status !== 409)) && !contextLength && STRUCTURED_OUTPUT.test(detail)) {
    return new LlmCapabilityError(
      `${where(ctx)} cannot give the structured output asked for (${status}); ` +
        `the OpenAI backend steps down to json_object with a schema, then to JSON asked for in the prompt only${said}`,
      { status, retryable: false, code: code ?? 'structured_output_unsupported' },
    );
  }
  if (status === 408 || status === 409 || status >= 500) {
    return new LlmServerError(`${where(ctx)} server error (${status})${said}`, { status, retryable: true, retryAfterMs, code });
  }
  if (status >= 400) {
    let fix: string;
    if (contextLength) {
      fix = 'the prompt plus max tokens exceeds the model context window; lower llm.maxTokens, raise llm.contextWindow to match the server, or shorten the input';
    } else if (MAX_COMPLETION_TOKENS.test(detail)) {
      fix = 'the model wants max_completion_tokens instead of max_tokens';
    } else {
      fix = `check llm.model and the sampling parameters (maxTokens, temperature, topP, seed) for model ${model}`;
    }
    return new LlmBadRequestError(`${where(ctx)} rejected the request (${status}): ${fix}${said}`, { status, retryable: false, code });
  }
  return new LlmMalformedResponseError(`${where(ctx)} answered an unexpected status ${status}${said}`, {
    status,
    retryable: true,
    code,
  });
}

/** Identical answers of the endpoint to one request after which a retryable 500 is taken as deterministic. */
export const IDENTICAL_FAULTS_LIMIT = 3;

/**
 * True for an error whose exact repetition means a deterministic fault: a plain 500. 502–504, 408 and 409 are
 * excluded: an outage or an overload repeats its body identically for as long as it lasts, and is ridden out.
 */
export function isRepeatableFault(err: unknown): err is LlmServerError {
  return err instanceof LlmServerError && err.retryable && err.status === 500;
}

/** The non-retryable form of a 500 the endpoint gave `times` times, word for word, to the same request. */
export function identicalFault(err: LlmServerError, times: number): LlmServerError {
  return new LlmServerError(
    `${err.message} (the same answer to the same request ${times} times: a deterministic fault of the server, not an outage; ` +
      `retrying cannot help, so read the server's log or change the request, e.g. its structured output or sampling parameters)`,
    { status: err.status, retryable: false, code: 'identical_fault', cause: err },
  );
}

/** Error codes found along a `cause` chain (undici nests the socket error two levels down). */
function causeCodes(err: unknown): string[] {
  const codes: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur && typeof cur === 'object' && depth < 6; depth++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === 'string') codes.push(c);
    const errors = (cur as { errors?: unknown }).errors;
    if (Array.isArray(errors)) for (const e of errors) codes.push(...causeCodes(e));
    cur = (cur as { cause?: unknown }).cause;
  }
  return codes;
}

/** Maps a request that got no HTTP answer (refused, reset, DNS, timeout) to a retryable LlmConnectionError. */
export function connectionError(cause: unknown, ctx: LlmErrorContext = {}, timedOut = false): LlmConnectionError {
  const codes = causeCodes(cause);
  const has = (...names: string[]) => names.some((n) => codes.includes(n));
  let what: string;
  let code: string;
  if (timedOut || has('ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT')) {
    what = 'timed out (raise llm.timeoutMs if the model is slow, keeping it below the activity start-to-close timeout)';
    code = 'timeout';
  } else if (has('ECONNREFUSED')) {
    what = 'connection refused (is the server running and is llm.baseURL right?)';
    code = 'ECONNREFUSED';
  } else if (has('ENOTFOUND', 'EAI_AGAIN')) {
    what = 'host name did not resolve (check llm.baseURL)';
    code = 'ENOTFOUND';
  } else if (has('ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED')) {
    what = 'connection reset by the server';
    code = 'ECONNRESET';
  } else {
    what = 'connection failed';
    code = codes[0] ?? 'connection_error';
  }
  return new LlmConnectionError(`cannot reach ${where(ctx)}: ${what}`, { retryable: true, code, cause });
}

/** The one retry decision: LlmErrors say so themselves; anything else is treated as transient, as Temporal does by default. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof LlmError) return err.retryable;
  return true;
}

/** Plain-data options for `ApplicationFailure.create` (type = class name; Retry-After becomes nextRetryDelay). */
export interface ApplicationFailureOptions {
  message: string;
  type: string;
  nonRetryable: boolean;
  nextRetryDelayMs?: number;
}

/** What the activity needs to turn an error into an ApplicationFailure. */
export function toApplicationFailureOptions(err: unknown): ApplicationFailureOptions {
  if (err instanceof LlmError) {
    const out: ApplicationFailureOptions = { message: err.message, type: err.name, nonRetryable: !err.retryable };
    if (err.retryable && err.retryAfterMs !== undefined) out.nextRetryDelayMs = err.retryAfterMs;
    return out;
  }
  const message = err instanceof Error ? err.message : String(err);
  return { message, type: err instanceof Error ? err.name : 'Error', nonRetryable: !isRetryable(err) };
}
