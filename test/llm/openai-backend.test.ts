import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  LlmAuthError,
  LlmBadRequestError,
  LlmCapabilityError,
  LlmConnectionError,
  LlmMalformedResponseError,
  LlmNotFoundError,
  LlmQuotaError,
  LlmRateLimitError,
  LlmServerError,
} from '../../src/llm/errors';
import { createOpenAiBackend, normaliseFinishReason, STRUCTURED_OUTPUT_LADDER, type StructuredOutputRung } from '../../src/llm/openai-backend';
import type { ChatRequest } from '../../src/llm/types';
import { fakeAnswer, fakeTokens, startFakeOpenAi, type FakeOpenAi } from '../support/fake-openai';

const KEY = 'sk-test-secret-key-0123456789';
let fake: FakeOpenAi;
beforeAll(async () => {
  fake = await startFakeOpenAi({ models: ['fake-model', 'b-model'], strictModels: true });
});
afterAll(async () => {
  await fake.stop();
});
beforeEach(() => fake.reset());

const backend = (over: Partial<Parameters<typeof createOpenAiBackend>[0]> = {}) =>
  createOpenAiBackend({ baseURL: fake.url, apiKey: KEY, model: 'fake-model', timeoutMs: 30_000, keyEnvVar: 'ULTRALINK_LLM_API_KEY', ...over });

const request = (content: string, over: Partial<ChatRequest> = {}): ChatRequest => ({
  messages: [{ role: 'user', content }],
  maxTokens: 512,
  temperature: 0.7,
  topP: 0.9,
  seed: 42,
  ...over,
});

const schema = { name: 'judge', schema: { type: 'object', properties: { culture_related: { type: 'boolean' } }, required: ['culture_related'] } };

describe('createOpenAiBackend against the fake server', () => {
  it('returns content, finish reason, usage and model', async () => {
    const req = request('Tell me about the old harbour of the city.');
    const r = await backend().chat(req);
    const expected = fakeAnswer(req.messages);
    expect(r).toEqual({
      content: expected,
      finishReason: 'stop',
      promptTokens: fakeTokens(req.messages[0].content).length,
      completionTokens: fakeTokens(expected).length,
      model: 'fake-model',
    });
    expect(fake.log).toHaveLength(1);
    expect(fake.log[0].hadAuthorization).toBe(true);
  });

  it('reports truncation as finishReason length', async () => {
    const r = await backend().chat(request('Tell me about the old harbour of the city.', { maxTokens: 4 }));
    expect(r.finishReason).toBe('length');
    expect(r.completionTokens).toBe(4);
  });

  it('estimates and marks usage when the server omits it', async () => {
    fake.setFaults({ omitUsage: true });
    const r = await backend().chat(request('Tell me about the harbour.'));
    expect(r.usageEstimated).toBe(true);
    expect(r.promptTokens).toBeGreaterThan(0);
    expect(r.completionTokens).toBeGreaterThan(0);
  });

  it('asks for json_schema structured output and gets JSON back', async () => {
    fake.setFaults({ judgeTrue: ['festival'] });
    const b = backend();
    const yes = await b.chat(request('The lantern festival in spring.', { jsonSchema: schema }));
    const no = await b.chat(request('A note about rain.', { jsonSchema: schema }));
    expect([JSON.parse(yes.content), JSON.parse(no.content)]).toEqual([{ culture_related: true }, { culture_related: false }]);
  });

  it('sends sampling params and max_tokens to non-OpenAI hosts', async () => {
    let body: Record<string, unknown> = {};
    fake.setFaults({ respond: (req) => ((body = { maxTokens: req.maxTokens, rf: req.responseFormat }), 'ok') });
    await backend().chat(request('x', { maxTokens: 77, jsonSchema: schema }));
    expect(body).toEqual({ maxTokens: 77, rf: { type: 'json_schema', json_schema: { name: 'judge', schema: schema.schema, strict: true } } });
  });

  it('does not re-send on a context-length 400', async () => {
    const ctxServer = await startStub(400, { error: { message: "maximum context length is 10 tokens", code: 'context_length_exceeded' } });
    try {
      const b = createOpenAiBackend({ baseURL: ctxServer.url, apiKey: KEY, model: 'm', timeoutMs: 5000, keyEnvVar: 'K' });
      await expect(b.chat(request('x', { jsonSchema: schema }))).rejects.toBeInstanceOf(LlmBadRequestError);
      expect(ctxServer.hits()).toBe(1);
    } finally {
      await ctxServer.stop();
    }
  });

  it('switches to max_completion_tokens when the endpoint asks for it', async () => {
    let calls = 0;
    const stub = await startStubFn((body) => {
      calls++;
      if ('max_tokens' in body) return [400, { error: { message: "Unsupported parameter: 'max_tokens'. Use 'max_completion_tokens' instead.", code: 'unsupported_parameter' } }];
      return [200, { model: 'o-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1 } }];
    });
    try {
      const b = createOpenAiBackend({ baseURL: stub.url, apiKey: KEY, model: 'o-mini', timeoutMs: 5000, keyEnvVar: 'K' });
      expect((await b.chat(request('x'))).content).toBe('hi');
      expect((await b.chat(request('y'))).content).toBe('hi');
      expect(calls).toBe(3);
    } finally {
      await stub.stop();
    }
  });

  it('a 500 given word for word three times to the same request becomes non-retryable; outages and other requests do not count', async () => {
    fake.setFaults({ errorRate: 1 });
    const b = backend();
    const same = [];
    for (let i = 0; i < 3; i++) same.push((await b.chat(request('q')).catch((e: unknown) => e)) as LlmServerError);
    expect(same.every((e) => e instanceof LlmServerError)).toBe(true);
    expect(same.map((e) => [e.retryable, e.code])).toEqual([
      [true, 'server_error'],
      [true, 'server_error'],
      [false, 'identical_fault'],
    ]);
    expect(same[2].message).toMatch(/Injected error 500.*3 times: a deterministic fault/);
    const others = [];
    for (let i = 0; i < 3; i++) others.push(((await b.chat(request(`q${i}`)).catch((e: unknown) => e)) as LlmServerError).retryable);
    expect(others).toEqual([true, true, true]);
    fake.setFaults({ errorRate: undefined, outage: { calls: 5 } });
    const outage = [];
    for (let i = 0; i < 5; i++) outage.push(((await b.chat(request('q')).catch((e: unknown) => e)) as LlmServerError).retryable);
    expect(outage).toEqual([true, true, true, true, true]);
    expect(fake.log).toHaveLength(11);
  });

  it.each([
    { name: '401', faults: { authFail: true }, cls: LlmAuthError, says: /ULTRALINK_LLM_API_KEY/ },
    { name: '429 with retry-after-ms', faults: { rateLimit: { retryAfterMs: 1500 } }, cls: LlmRateLimitError, retryAfterMs: 1500 },
    { name: '429 with retry-after', faults: { rateLimit: { retryAfterSeconds: 3 } }, cls: LlmRateLimitError, retryAfterMs: 3000 },
    { name: '429 quota', faults: { rateLimit: { quota: true } }, cls: LlmQuotaError, says: /out of credit/ },
    { name: '503 outage', faults: { outage: { calls: 1 } }, cls: LlmServerError },
    { name: '500 error', faults: { errorRate: 1 }, cls: LlmServerError },
  ])('maps $name and makes exactly one HTTP call', async ({ faults, cls, says, retryAfterMs }) => {
    fake.setFaults(faults);
    const err = await backend().chat(request('q')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(cls);
    if (says) expect((err as Error).message).toMatch(says);
    if (retryAfterMs !== undefined) expect((err as LlmRateLimitError).retryAfterMs).toBe(retryAfterMs);
    expect((err as Error).message).not.toContain(KEY);
    expect(fake.log).toHaveLength(1);
  });

  it('maps an unknown model and a wrong base URL to LlmNotFoundError naming the fix', async () => {
    const model = await backend({ model: 'nope' }).chat(request('q')).catch((e: unknown) => e);
    expect(model).toBeInstanceOf(LlmNotFoundError);
    expect((model as Error).message).toMatch(/llm\.model/);
    const route = await backend({ baseURL: fake.url.replace(/\/v1$/, '') }).chat(request('q')).catch((e: unknown) => e);
    expect(route).toBeInstanceOf(LlmNotFoundError);
    expect((route as Error).message).toMatch(/llm\.baseURL/);
  });

  it('maps malformed bodies (invalid JSON, no choices) to retryable LlmMalformedResponseError', async () => {
    fake.setFaults({ malformedRate: 1 });
    const codes = new Set<string | undefined>();
    for (let i = 0; i < 10; i++) {
      const err = await backend().chat(request(`m${i}`)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LlmMalformedResponseError);
      expect((err as LlmMalformedResponseError).retryable).toBe(true);
      codes.add((err as LlmMalformedResponseError).code);
    }
    expect([...codes].sort()).toEqual(['invalid_json', 'no_choices']);
  });

  it('maps connection refused to LlmConnectionError', async () => {
    const port = await freePort();
    const err = await backend({ baseURL: `http://127.0.0.1:${port}/v1` }).chat(request('q')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmConnectionError);
    expect((err as LlmConnectionError).code).toBe('ECONNREFUSED');
    expect((err as LlmConnectionError).retryable).toBe(true);
  });

  it('maps the client timeout to a retryable LlmConnectionError', async () => {
    fake.setFaults({ latencyMs: 5_000 });
    const err = await backend({ timeoutMs: 200 }).chat(request('q')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmConnectionError);
    expect((err as LlmConnectionError).code).toBe('timeout');
    await vi.waitFor(() => expect(fake.log[0].clientClosed).toBe(true), { timeout: 10_000 });
  });

  it('aborting the signal closes the HTTP request and rethrows the signal reason', async () => {
    fake.setFaults({ latencyMs: 60_000 });
    const controller = new AbortController();
    const pending = backend().chat(request('slow question'), controller.signal).catch((e: unknown) => e);
    await vi.waitFor(() => expect(fake.log).toHaveLength(1), { timeout: 10_000 });
    const reason = new Error('activity cancelled');
    controller.abort(reason);
    expect(await pending).toBe(reason);
    await vi.waitFor(() => expect(fake.log[0].clientClosed).toBe(true), { timeout: 10_000 });
    expect(fake.log[0].status).toBeUndefined();
  });

  it('lists the served models', async () => {
    expect(await backend().listModels()).toEqual(['b-model', 'fake-model']);
    fake.setFaults({ authFail: true });
    await expect(backend().listModels()).rejects.toBeInstanceOf(LlmAuthError);
  });
});

describe('structured-output ladder', () => {
  // The prompt shows the answer's shape, as the judge's does, so the fake answers JSON on every rung.
  const judged = (text: string) => request(`Answer with {"culture_related": false} or true. ${text}`, { jsonSchema: schema });
  const JSON_SCHEMA = { type: 'json_schema', json_schema: { name: 'judge', schema: schema.schema, strict: true } };
  const JSON_OBJECT = { type: 'json_object', schema: schema.schema };
  const modes: Array<{ mode: StructuredOutputRung; first: Array<[number, unknown]> }> = [
    { mode: 'json_schema', first: [[200, JSON_SCHEMA]] },
    { mode: 'json_object+schema', first: [[500, JSON_SCHEMA], [200, JSON_OBJECT]] },
    { mode: 'prompt-only', first: [[400, JSON_SCHEMA], [400, JSON_OBJECT], [200, undefined]] },
  ];

  it.each(modes)('$mode: the first call steps down within itself, later calls start at the rung that passed', async ({ mode, first }) => {
    fake.setFaults({ structuredOutput: mode, judgeTrue: ['festival'] });
    const b = backend();
    const yes = await b.chat(judged('The lantern festival in spring.'));
    expect(fake.log.map((e) => [e.status, e.responseFormat])).toEqual(first);
    const no = await b.chat(judged('A note about rain.'));
    expect(fake.log.slice(first.length).map((e) => [e.status, e.responseFormat])).toEqual([first[first.length - 1]]);
    expect([JSON.parse(yes.content), JSON.parse(no.content)]).toEqual([{ culture_related: true }, { culture_related: false }]);
    // Requests without a schema never carry response_format, whatever was learned.
    await b.chat(request('Tell me about the lake.'));
    expect(fake.log.at(-1)!.responseFormat).toBeUndefined();
  });

  it.each(modes)('$mode: the probe finds it with one request per rung, and chat then starts there', async ({ mode, first }) => {
    fake.setFaults({ structuredOutput: mode });
    const b = backend();
    expect(await b.probeStructuredOutput()).toBe(mode);
    expect(fake.log.map((e) => e.status)).toEqual(first.map(([status]) => status));
    await b.chat(judged('A note about rain.'));
    expect(fake.log.slice(first.length).map((e) => [e.status, e.responseFormat])).toEqual([first[first.length - 1]]);
  });

  it('steps down on a 422 naming response_format, and the rung is per backend instance', async () => {
    let bodies: unknown[] = [];
    const stub = await startStubFn((body) => {
      bodies.push(body.response_format);
      if (body.response_format) return [422, { detail: [{ loc: ['body', 'response_format'], msg: 'extra fields not permitted' }] }];
      return [200, { model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: '{"culture_related": true}' }, finish_reason: 'stop' }] }];
    });
    try {
      const make = () => createOpenAiBackend({ baseURL: stub.url, apiKey: KEY, model: 'm', timeoutMs: 5000, keyEnvVar: 'K' });
      expect((await make().chat(request('x', { jsonSchema: schema }))).content).toBe('{"culture_related": true}');
      expect(bodies).toEqual([JSON_SCHEMA, JSON_OBJECT, undefined]);
      bodies = [];
      await make().chat(request('y', { jsonSchema: schema }));
      expect(bodies).toHaveLength(3);
    } finally {
      await stub.stop();
    }
  });

  it('a capability error on the last rung is thrown non-retryable, not stepped past', async () => {
    const stub = await startStub(500, { error: { message: "grammar sampler failed: json_object unsupported", type: 'internal_server_error' } });
    try {
      const b = createOpenAiBackend({ baseURL: stub.url, apiKey: KEY, model: 'm', timeoutMs: 5000, keyEnvVar: 'K' });
      const err = await b.chat(request('x', { jsonSchema: schema })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LlmCapabilityError);
      expect((err as LlmCapabilityError).retryable).toBe(false);
      expect(stub.hits()).toBe(STRUCTURED_OUTPUT_LADDER.length);
    } finally {
      await stub.stop();
    }
  });

  it('the probe passes other errors on (auth here)', async () => {
    fake.setFaults({ authFail: true });
    await expect(backend().probeStructuredOutput()).rejects.toBeInstanceOf(LlmAuthError);
    expect(fake.log).toHaveLength(1);
  });
});

describe('normaliseFinishReason', () => {
  it.each([
    ['stop', 'stop'],
    ['length', 'length'],
    ['max_tokens', 'length'],
    ['eos', 'stop'],
    ['content_filter', 'content_filter'],
    ['function_call', 'tool_calls'],
    ['weird', 'unknown'],
    [null, 'unknown'],
  ])('%s → %s', (raw, want) => {
    expect(normaliseFinishReason(raw)).toBe(want);
  });
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A one-route server whose answer depends on the JSON body, for protocol cases the fake does not model. */
async function startStubFn(answer: (body: Record<string, unknown>) => [number, unknown]) {
  let hits = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits++;
      const [status, body] = answer(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    hits: () => hits,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function startStub(status: number, body: unknown) {
  return startStubFn(() => [status, body]);
}
