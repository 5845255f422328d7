/**
 * How many parallel sequences should the embedded model run? (llm.local.parallelSequences.) The demo's mix of calls
 * (per language: first questions over its knowledge segments with its dialogue pack, and translations of English
 * segments with its translation pack, interleaved in one seeded order as a build's stages interleave them), all sent
 * at once, greedy, through the production backend (prefix affinity on) with each sequence count in turn, a fresh
 * backend per arm. Prints per arm the wall time, its ratio to the first arm, and how many replies differ from the
 * first arm's: greedy decoding is deterministic on one sequence, so a reply that differs was changed by sharing a
 * batch, and the question gates (reviewReply) say how many of the questions still pass. Arms alternate order per round.
 * Run by hand, never in tests: about 4 minutes per arm and round on 2 cores with the defaults.
 *
 *   npx tsx bench/parallel-sequences.ts [--sequences=1,4] [--per-lang=3] [--rounds=1] [--max-tokens=80] [--config=samples/demo.yaml]
 */
import os from 'node:os';
import path from 'node:path';
import { loadConfigFile, toolEnv } from '../src/config';
import { reviewReply } from '../src/core/dialogue/gates';
import { loadLangId } from '../src/core/text/lang-id';
import { createLocalBackend } from '../src/llm/local-backend';
import { ensureLocalModel, modelSourceFrom } from '../src/llm/model-acquire';
import { demoCallMix, flag, reviewOptionsOf } from './support/demo-inputs';
import { median } from './support/stats';

const REPO = path.resolve(__dirname, '..');

async function main(): Promise<void> {
  const perLang = Number(flag('per-lang') ?? 3);
  const rounds = Number(flag('rounds') ?? 1);
  const maxTokens = Number(flag('max-tokens') ?? 80);
  const arms = (flag('sequences') ?? '1,4').split(',').map(Number);
  const config = loadConfigFile(path.resolve(REPO, flag('config') ?? 'samples/demo.yaml'));
  const langId = await loadLangId();
  const { calls, order } = await demoCallMix(config, langId, perLang, 'parallel-sequences');
  const model = await ensureLocalModel({ cacheDir: path.join(toolEnv().cacheDir, 'models'), source: modelSourceFrom(config.llm.local) });
  const { threads, contextSize } = config.llm.local;
  console.log(`${path.basename(model.path)}: ${threads} threads; ${calls.length} calls per arm, greedy, max ${maxTokens} tokens; ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)}`);

  const runArm = async (parallelSequences: number) => {
    const backend = await createLocalBackend({ modelPath: model.path, contextSize, threads, parallelSequences });
    try {
      const replies = new Array<string>(calls.length);
      const t0 = performance.now();
      await Promise.all(order.map(async (i) => {
        replies[i] = (await backend.chat({ messages: calls[i]!.messages, maxTokens, temperature: 0, topP: 1, seed: config.seed })).content;
      }));
      return { wallS: (performance.now() - t0) / 1000, replies };
    } finally {
      await backend.close();
    }
  };
  const questionsKept = (replies: string[]) =>
    calls.filter((c, i) => {
      if (c.document === undefined) return false;
      return reviewReply({ content: replies[i]!, finishReason: 'stop' }, { role: 'question', lang: c.lang, messages: c.messages, document: c.document, past: [] }, reviewOptionsOf(config, c.lang, langId)).verdict.keep;
    }).length;
  const questions = calls.filter((c) => c.document !== undefined).length;

  const walls = new Map<number, number[]>(arms.map((a) => [a, []]));
  console.log(`\n| round | sequences | wall s | × first arm | replies unlike the first arm's | questions kept |\n|---|---|---|---|---|---|`);
  for (let r = 0; r < rounds; r++) {
    const ordered = r % 2 === 0 ? arms : [...arms].reverse();
    const results = new Map<number, Awaited<ReturnType<typeof runArm>>>();
    for (const a of ordered) results.set(a, await runArm(a));
    const reference = results.get(arms[0]!)!;
    for (const a of arms) {
      const res = results.get(a)!;
      walls.get(a)!.push(res.wallS);
      const differ = res.replies.filter((reply, i) => reply !== reference.replies[i]).length;
      console.log(`| ${r + 1} | ${a} | ${res.wallS.toFixed(1)} | ${(reference.wallS / res.wallS).toFixed(2)}× faster | ${differ}/${calls.length} | ${questionsKept(res.replies)}/${questions} |`);
    }
  }
  console.log(`\nmedian wall: ${arms.map((a) => `${a} sequences ${median(walls.get(a)!).toFixed(1)} s`).join(', ')}; load ${os.loadavg()[0]!.toFixed(1)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
