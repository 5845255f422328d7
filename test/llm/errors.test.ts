import { describe, expect, it } from 'vitest';
import {
  LlmAuthError,
  LlmBadRequestError,
  LlmCapabilityError,
  LlmConnectionError,
  LlmError,
  LlmMalformedResponseError,
  LlmNotFoundError,
  LlmQuotaError,
  LlmRateLimitError,
  LlmServerError,
  connectionError,
  errorFromHttp,
  identicalFault,
  isContextLengthError,
  isRepeatableFault,
  isRetryable,
  parseRetryAfterMs,
  scrubSecrets,
  toApplicationFailureOptions,
} from '../../src/llm/errors';
import { llamaCppPythonLiteralError } from '../support/fake-openai';

const ctx = { baseURL: 'http://llm.local/v1', model: 'qwen-7b', keyEnvVar: 'ULTRALINK_LLM_API_KEY' };
const openAiBody = (message: string, code: string | null = null, type = 'invalid_request_error') => ({ error: { message, type, code } });

describe('errorFromHttp', () => {
  const cases: Array<{ name: string; status: number; body: unknown; cls: typeof LlmError; retryable: boolean; says?: RegExp }> = [
    { name: '429 rate limit', status: 429, body: openAiBody('slow down', 'rate_limit_exceeded', 'requests'), cls: LlmRateLimitError, retryable: true },
    { name: '429 insufficient_quota', status: 429, body: openAiBody('quota', 'insufficient_quota', 'insufficient_quota'), cls: LlmQuotaError, retryable: false, says: /out of credit/ },
    { name: '429 quota in type only', status: 429, body: { error: { message: 'x', type: 'insufficient_quota' } }, cls: LlmQuotaError, retryable: false },
    { name: '500', status: 500, body: openAiBody('boom', null, 'server_error'), cls: LlmServerError, retryable: true },
    { name: '502 with html body', status: 502, body: '<html>Bad Gateway</html>', cls: LlmServerError, retryable: true },
    { name: '503', status: 503, body: '', cls: LlmServerError, retryable: true },
    { name: '408 request timeout', status: 408, body: '', cls: LlmServerError, retryable: true },
    { name: '401 names the key variable', status: 401, body: openAiBody('Incorrect API key provided', 'invalid_api_key'), cls: LlmAuthError, retryable: false, says: /ULTRALINK_LLM_API_KEY/ },
    { name: '403 names key and model', status: 403, body: openAiBody('no access'), cls: LlmAuthError, retryable: false, says: /ULTRALINK_LLM_API_KEY.*'qwen-7b'/ },
    { name: '400 context length', status: 400, body: openAiBody("This model's maximum context length is 8192 tokens", 'context_length_exceeded'), cls: LlmBadRequestError, retryable: false, says: /context window.*llm\.maxTokens/ },
    { name: '400 vLLM context length (no code)', status: 400, body: { object: 'error', message: 'This model\'s maximum context length is 4096 tokens. However, you requested 5000 tokens', type: 'BadRequestError', code: 400 }, cls: LlmBadRequestError, retryable: false, says: /context window/ },
    { name: '400 response_format', status: 400, body: openAiBody("Invalid parameter: 'response_format' of type 'json_schema' is not supported"), cls: LlmCapabilityError, retryable: false, says: /structured output/ },
    { name: '500 llama-cpp-python literal error', status: 500, body: openAiBody(llamaCppPythonLiteralError('json_schema'), null, 'internal_server_error'), cls: LlmCapabilityError, retryable: false, says: /json_object with a schema/ },
    { name: '422 FastAPI detail naming response_format', status: 422, body: { detail: [{ loc: ['body', 'response_format', 'type'], msg: "Input should be 'text' or 'json_object'" }] }, cls: LlmCapabilityError, retryable: false, says: /structured output/ },
    { name: '503 naming response_format is an outage', status: 503, body: openAiBody('response_format workers are restarting', null, 'server_error'), cls: LlmServerError, retryable: true },
    { name: '400 context length naming json_schema', status: 400, body: openAiBody('maximum context length is 4096 tokens (json_schema included)', 'context_length_exceeded'), cls: LlmBadRequestError, retryable: false, says: /context window/ },
    { name: '400 other params', status: 400, body: openAiBody('temperature must be <= 2'), cls: LlmBadRequestError, retryable: false, says: /sampling parameters/ },
    { name: '422 FastAPI detail', status: 422, body: { detail: [{ loc: ['body', 'top_p'], msg: 'bad' }] }, cls: LlmBadRequestError, retryable: false, says: /top_p/ },
    { name: '404 model', status: 404, body: openAiBody("The model 'qwen-7b' does not exist", 'model_not_found'), cls: LlmNotFoundError, retryable: false, says: /fix llm\.model/ },
    { name: '404 Ollama model', status: 404, body: { error: 'model "qwen-7b" not found, try pulling it first' }, cls: LlmNotFoundError, retryable: false, says: /fix llm\.model/ },
    { name: '404 route', status: 404, body: '404 page not found', cls: LlmNotFoundError, retryable: false, says: /fix llm\.baseURL/ },
  ];
  it.each(cases)('$name', ({ status, body, cls, retryable, says }) => {
    const err = errorFromHttp(status, undefined, body, ctx);
    expect(err).toBeInstanceOf(cls);
    expect(err).toBeInstanceOf(LlmError);
    expect(err.name).toBe(cls.name);
    expect(err.status).toBe(status);
    expect(err.retryable).toBe(retryable);
    expect(isRetryable(err)).toBe(retryable);
    expect(err.message).toContain('http://llm.local/v1');
    if (says) expect(err.message).toMatch(says);
  });

  it('reads the JSON body when given as a string', () => {
    const err = errorFromHttp(429, undefined, JSON.stringify(openAiBody('q', 'insufficient_quota')), ctx);
    expect(err).toBeInstanceOf(LlmQuotaError);
  });

  it('takes retry-after-ms over retry-after, on 429 and 503', () => {
    expect(errorFromHttp(429, { 'retry-after-ms': '1500', 'retry-after': '9' }, '', ctx).retryAfterMs).toBe(1500);
    expect(errorFromHttp(429, new Headers({ 'Retry-After': '7' }), '', ctx).retryAfterMs).toBe(7000);
    expect(errorFromHttp(503, { 'Retry-After': '2' }, '', ctx).retryAfterMs).toBe(2000);
    expect(errorFromHttp(429, {}, '', ctx).retryAfterMs).toBeUndefined();
  });

  it('does not give a retry delay to the quota error', () => {
    const err = errorFromHttp(429, { 'retry-after': '5' }, openAiBody('q', 'insufficient_quota'), ctx);
    expect(toApplicationFailureOptions(err)).toEqual({ message: err.message, type: 'LlmQuotaError', nonRetryable: true });
  });

  it('scrubs the API key and key-shaped strings from server text', () => {
    const err = errorFromHttp(401, undefined, openAiBody('Incorrect API key provided: sk-proj-abcd1234. Or mykey-XYZ'), { ...ctx, secrets: ['mykey-XYZ'] });
    expect(err.message).not.toContain('sk-proj-abcd1234');
    expect(err.message).not.toContain('mykey-XYZ');
    expect(scrubSecrets('Bearer abc.def', [])).toBe('Bearer [redacted]');
  });
});

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it.each([
    { headers: { 'retry-after-ms': '250' }, want: 250 },
    { headers: { 'retry-after-ms': 'soon', 'retry-after': '3' }, want: 3000 },
    { headers: { 'retry-after': '0.5' }, want: 500 },
    { headers: { 'retry-after': 'Wed, 01 Jan 2025 00:00:30 GMT' }, want: 30_000 },
    { headers: { 'retry-after': 'Tue, 31 Dec 2024 23:00:00 GMT' }, want: 0 },
    { headers: { 'retry-after': 'never' }, want: undefined },
    { headers: { 'retry-after': '-4' }, want: undefined },
    { headers: {}, want: undefined },
  ])('$headers → $want', ({ headers, want }) => {
    expect(parseRetryAfterMs(headers, now)).toBe(want);
  });
});

describe('connectionError', () => {
  const nested = (code: string) => new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) });
  it.each([
    { cause: nested('ECONNREFUSED'), timedOut: false, code: 'ECONNREFUSED', says: /refused/ },
    { cause: nested('ECONNRESET'), timedOut: false, code: 'ECONNRESET', says: /reset/ },
    { cause: nested('ENOTFOUND'), timedOut: false, code: 'ENOTFOUND', says: /did not resolve/ },
    { cause: nested('UND_ERR_CONNECT_TIMEOUT'), timedOut: false, code: 'timeout', says: /timed out/ },
    { cause: new Error('aborted'), timedOut: true, code: 'timeout', says: /timed out/ },
  ])('$code', ({ cause, timedOut, code, says }) => {
    const err = connectionError(cause, ctx, timedOut);
    expect(err).toBeInstanceOf(LlmConnectionError);
    expect(err.retryable).toBe(true);
    expect(err.code).toBe(code);
    expect(err.message).toMatch(says);
  });
});

describe('isRetryable and toApplicationFailureOptions', () => {
  it('passes Retry-After as nextRetryDelayMs on retryable errors', () => {
    const err = errorFromHttp(429, { 'retry-after-ms': '1200' }, '', ctx);
    expect(toApplicationFailureOptions(err)).toEqual({ message: err.message, type: 'LlmRateLimitError', nonRetryable: false, nextRetryDelayMs: 1200 });
  });
  it('marks auth and malformed responses correctly', () => {
    expect(toApplicationFailureOptions(errorFromHttp(401, undefined, '', ctx)).nonRetryable).toBe(true);
    const malformed = new LlmMalformedResponseError('no choices', { retryable: true });
    expect(toApplicationFailureOptions(malformed)).toMatchObject({ type: 'LlmMalformedResponseError', nonRetryable: false });
  });
  it('treats unknown errors as transient', () => {
    expect(isRetryable(new Error('x'))).toBe(true);
    expect(toApplicationFailureOptions(new RangeError('y'))).toEqual({ message: 'y', type: 'RangeError', nonRetryable: false });
  });
  it('takes only retryable 500s as repeatable faults, and makes their identical form non-retryable', () => {
    const boom = errorFromHttp(500, undefined, openAiBody('boom', null, 'server_error'), ctx);
    expect([boom, errorFromHttp(502, undefined, '', ctx), errorFromHttp(503, undefined, '', ctx), errorFromHttp(408, undefined, '', ctx)].map(isRepeatableFault)).toEqual([true, false, false, false]);
    const fault = identicalFault(boom as LlmServerError, 3);
    expect(isRepeatableFault(fault)).toBe(false);
    expect(toApplicationFailureOptions(fault)).toEqual({ message: fault.message, type: 'LlmServerError', nonRetryable: true });
    expect(fault.message).toMatch(/boom.*3 times: a deterministic fault/);
  });
  it('recognises context-length bad requests only', () => {
    expect(isContextLengthError(errorFromHttp(400, undefined, openAiBody('x', 'context_length_exceeded'), ctx))).toBe(true);
    expect(isContextLengthError(errorFromHttp(400, undefined, openAiBody('bad temperature'), ctx))).toBe(false);
    expect(isContextLengthError(errorFromHttp(500, undefined, openAiBody('context length'), ctx))).toBe(false);
  });
});
