/**
 * What the embedded backend's prefix affinity saves (LocalBackendOptions.prefixAffinity): each call runs on the free
 * sequence whose evaluated tokens share the longest start with its prompt, so a pack's system prompt is not
 * evaluated again on every call. The same demo-shaped mix of calls runs with affinity on and off: for each language
 * of the demo config, first questions over its knowledge segments (its dialogue pack) and translations of English
 * segments into it (its translation pack), interleaved in one seeded order as a build's stages interleave them.
 * Both arms use the demo config's model, threads and sequences, a fresh backend per round (no state carried from
 * the round before), and alternate which goes first. Prints wall time, calls/s and the ratio off/on per round.
 * Run by hand, never in tests: about 6 minutes on 2 cores with the defaults.
 *
 *   npx tsx bench/prefix-affinity.ts [--per-lang=4] [--rounds=2] [--max-tokens=24] [--config=samples/demo.yaml]
 */
import os from 'node:os';
import path from 'node:path';
import { loadConfigFile, toolEnv } from '../src/config';
import { loadLangId } from '../src/core/text/lang-id';
import { createLocalBackend } from '../src/llm/local-backend';
import { ensureLocalModel, modelSourceFrom } from '../src/llm/model-acquire';
import { demoCallMix, flag } from './support/demo-inputs';
import { median } from './support/stats';

const REPO = path.resolve(__dirname, '..');



async function main(): Promise<void> {
  const perLang = Number(flag('per-lang') ?? 4);
  const rounds = Number(flag('rounds') ?? 2);
  const maxTokens = Number(flag('max-tokens') ?? 24);
  const config = loadConfigFile(path.resolve(REPO, flag('config') ?? 'samples/demo.yaml'));
  const langId = await loadLangId();
  const { calls, order } = await demoCallMix(config, langId, perLang, 'prefix-affinity');
  const model = await ensureLocalModel({ cacheDir: path.join(toolEnv().cacheDir, 'models'), source: modelSourceFrom(config.llm.local) });
  const { threads, parallelSequences, contextSize } = config.llm.local;
  console.log(`${path.basename(model.path)}: ${threads} threads, ${parallelSequences} sequences; ${calls.length} calls per round, max ${maxTokens} tokens; ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)}`);

  const runArm = async (prefixAffinity: boolean) => {
    const backend = await createLocalBackend({ modelPath: model.path, contextSize, threads, parallelSequences, prefixAffinity });
    try {
      const t0 = performance.now();
      let prompt = 0;
      await Promise.all(order.map(async (i) => {
        const r = await backend.chat({ messages: calls[i]!.messages, maxTokens, temperature: 0, topP: 1, seed: config.seed });
        prompt += r.promptTokens;
      }));
      return { wallS: (performance.now() - t0) / 1000, prompt };
    } finally {
      await backend.close();
    }
  };

  console.log('\n| round | off: wall s | on: wall s | off/on | prompt tokens |\n|---|---|---|---|---|');
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const first = r % 2 === 0;
    const a = await runArm(first);
    const b = await runArm(!first);
    const [on, off] = first ? [a, b] : [b, a];
    ratios.push(off.wallS / on.wallS);
    console.log(`| ${r + 1} | ${off.wallS.toFixed(1)} | ${on.wallS.toFixed(1)} | ${(off.wallS / on.wallS).toFixed(2)}× | ${on.prompt} |`);
  }
  console.log(`\nspeed-up with affinity (off/on wall), median of ${rounds}: ${median(ratios).toFixed(2)}×; load ${os.loadavg()[0]!.toFixed(1)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
