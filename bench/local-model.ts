/**
 * Speed of the embedded local model on this machine: prompt processing and generation tokens/s
 * for 1 and 2 parallel sequences, and the time of a typical dialogue turn (~1,200-token prompt,
 * ~200-token answer). Prints two sample answers (zh, fr).
 *
 *   npx tsx bench/local-model.ts [source] [--threads N] [--parallel=1,2,4]
 * source: pypi:<name> | path | http(s) URL (default: the default PyPI model).
 */
import os from 'node:os';
import path from 'node:path';
import { toolEnv } from '../src/config';
import { createLocalBackend, type LocalBackend } from '../src/llm/local-backend';
import { ensureLocalModel } from '../src/llm/model-acquire';
import type { ChatRequest, ChatResult } from '../src/llm/types';

const PASSAGE =
  'The river town grew around a stone bridge built by merchants who carried salt, wool and copper between the hills and the coast. ' +
  'Each spring the water rose over the lower market, so the guilds kept their ledgers in the tower above the gate. ' +
  'Scholars later argued about whether the bridge or the market came first, and the town archive holds letters from both sides. ';

function args(): { source?: string; threads: number; parallel: number[] } {
  const argv = process.argv.slice(2);
  const t = argv.indexOf('--threads');
  const threads = t >= 0 ? Number(argv[t + 1]) : 2;
  const p = argv.find((a) => a.startsWith('--parallel='));
  const parallel = p ? p.slice('--parallel='.length).split(',').map(Number) : [1, 2];
  const rest = (t >= 0 ? argv.filter((_, i) => i !== t && i !== t + 1) : argv).filter((a) => a !== p);
  return { source: rest[0], threads, parallel };
}

/** A prompt of about `target` model tokens; the nonce up front defeats prefix reuse between runs. */
function longPrompt(backend: LocalBackend, target: number, nonce: string): string {
  let text = `Document ${nonce}.\n`;
  for (let i = 1; backend.countTokens(text) < target; i++) text += `Section ${i}. ${PASSAGE}\n`;
  return text;
}

function req(system: string, user: string, maxTokens: number, seed = 1): ChatRequest {
  return { messages: [{ role: 'system', content: system }, { role: 'user', content: user }], maxTokens, temperature: 0.7, topP: 0.95, seed };
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await fn();
  return [out, (performance.now() - t0) / 1000];
}

async function main(): Promise<void> {
  const { source, threads, parallel: parallels } = args();
  const [model, acquireS] = await timed(() => ensureLocalModel({ cacheDir: path.join(toolEnv().cacheDir, 'models'), source }));
  console.log(`model: ${model.description}`);
  console.log(`file: ${model.path} (${(model.size / 1e6).toFixed(0)} MB, sha256 ${model.sha256.slice(0, 12)}…), acquire ${acquireS.toFixed(1)} s`);
  console.log(`machine: ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, threads ${threads}`);

  const [backend, loadS] = await timed(() => createLocalBackend({ modelPath: model.path, contextSize: 2048, threads, parallelSequences: Math.max(...parallels) }));
  console.log(`load: ${loadS.toFixed(1)} s, chat wrapper ${backend.chatWrapper}\n`);
  const system = 'You are a helpful assistant.';
  const rows: string[] = [];
  try {
    await backend.chat(req(system, 'Hello', 4)); // warm-up

    // The machine is shared: each figure is the best and the median of REPEATS runs.
    for (const parallel of parallels) {
      const pp = await repeat(async (r) => {
        // ~1,000-token prompts, one output token each; a fresh nonce per run defeats prefix reuse.
        const prompts = Array.from({ length: parallel }, (_, i) => longPrompt(backend, 1000, `pp-${parallel}-${r}-${i}-${Date.now()}`));
        const [out, s] = await timed(() => Promise.all(prompts.map((p) => backend.chat(req(system, p, 1)))));
        return sum(out, 'promptTokens') / s;
      });
      rows.push(`prompt processing, ${parallel} seq: ${fmt(pp)} tok/s`);
      const gen = await repeat(async (r) => {
        // Short prompts, up to 128 tokens each (counted exactly, fewer if the model stops).
        const [out, s] = await timed(() =>
          Promise.all(Array.from({ length: parallel }, (_, i) => backend.chat(req(system, `Tell a long story about a lighthouse keeper, part ${r}-${i}.`, 128, 11 + i)))),
        );
        return sum(out, 'completionTokens') / s;
      });
      rows.push(`generation, ${parallel} seq: ${fmt(gen)} tok/s (aggregate over sequences)`);
    }

    // A typical dialogue turn of the pipeline: ~1,200-token prompt, ~200-token answer.
    let turnInfo = '';
    const turn = await repeat(async (r) => {
      const context = longPrompt(backend, 1150, `turn-${r}-${Date.now()}`);
      const [out, s] = await timed(() => backend.chat(req(system, `${context}\nWrite a question a curious reader might ask about this document, then answer it in detail.`, 200, 5)));
      turnInfo = `prompt ${out.promptTokens} + answer ${out.completionTokens} tokens (${out.finishReason})`;
      return -s;
    });
    rows.push(`dialogue turn (${turnInfo}): best ${(-turn.best).toFixed(1)} s, median ${(-turn.median).toFixed(1)} s`);
    for (const row of rows) console.log(row);

    for (const [lang, question] of [
      ['zh', '请用两三句话介绍一下长城的历史。'],
      ['fr', 'Explique en deux ou trois phrases pourquoi le ciel est bleu.'],
    ] as const) {
      const answer = await backend.chat({ messages: [{ role: 'user', content: question }], maxTokens: 120, temperature: 0.7, topP: 0.95, seed: 3 });
      console.log(`\n[${lang}] ${question}\n→ (${answer.completionTokens} tokens, ${answer.finishReason}) ${answer.content}`);
    }
  } finally {
    await backend.close();
  }
}

const REPEATS = 3;

/** Runs `fn` REPEATS times; higher is better. */
async function repeat(fn: (run: number) => Promise<number>): Promise<{ best: number; median: number }> {
  const values: number[] = [];
  for (let r = 0; r < REPEATS; r++) values.push(await fn(r));
  values.sort((a, b) => a - b);
  return { best: values[values.length - 1], median: values[Math.floor(values.length / 2)] };
}

function fmt(v: { best: number; median: number }): string {
  return `best ${v.best.toFixed(1)}, median ${v.median.toFixed(1)}`;
}

function sum(results: ChatResult[], key: 'promptTokens' | 'completionTokens'): number {
  return results.reduce((n, r) => n + r[key], 0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
