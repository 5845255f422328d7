/**
 * Does showing the embedded model one translated example first (the pack's `example`, an earlier user turn and the
 * assistant's reply) keep more translations? (issue 15, item 4.) The demo's own path on the bundled English sources
 * (chat, math, code): each text split as translateField splits it (splitForTranslation), each piece's first attempt
 * (translationAttempt 0: greedy, placeholders) rendered by the language's pack with and without its example, sent to
 * the demo config's backend and judged by acceptTranslation, the activity's rule. Prints kept pieces per language and
 * subset with and without, the drop reasons, and prompt and completion tokens. Both arms of a piece run together.
 * Run by hand, never in tests: about 6 minutes on 2 cores with the defaults.
 *
 *   npx tsx bench/translate-example.ts [--per-subset=3] [--langs=zh,ru,fr,es] [--config=samples/demo.yaml]
 */
import { createReadStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfigFile, readWorkerSecrets, toolEnv } from '../src/config';
import { splitForTranslation } from '../src/core/agnostic/mask';
import { readerFor, type AgnosticItem, type AgnosticSubset } from '../src/core/agnostic/readers';
import { acceptTranslation, parseTranslatePack, renderTranslateMessages, translateInstructions, translationAttempt, type TranslatePack } from '../src/core/agnostic/translate';
import { loadLangId } from '../src/core/text/lang-id';
import { countTokens } from '../src/core/text/tokens';
import { createBackend } from '../src/llm/backend';
import { loadPack } from '../src/prompts/load';

const REPO = path.resolve(__dirname, '..');
const ARMS = ['plain', 'example'] as const;
type Arm = (typeof ARMS)[number];
const SUBSETS: AgnosticSubset[] = ['chat', 'math', 'code'];

function flag(name: string): string | undefined {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

async function* chunks(file: string): AsyncGenerator<string> {
  for await (const chunk of createReadStream(file, { encoding: 'utf8' })) yield chunk as string;
}

/** The first `n` items of a subset's configured source, read as prepareSource reads them. */
async function itemsOf(file: { path: string; format: Parameters<typeof readerFor>[0] }, n: number): Promise<AgnosticItem[]> {
  const out: AgnosticItem[] = [];
  for await (const r of readerFor(file.format)(chunks(path.resolve(REPO, file.path)))) {
    if (r.kind === 'record') out.push(r.record);
    if (out.length >= n) break;
  }
  return out;
}

interface Outcome {
  lang: string;
  subset: AgnosticSubset;
  arm: Arm;
  reason?: string;
  promptTokens: number;
  completionTokens: number;
}

async function main(): Promise<void> {
  const perSubset = Number(flag('per-subset') ?? 3);
  const config = loadConfigFile(path.resolve(REPO, flag('config') ?? 'samples/demo.yaml'));
  const langs = flag('langs')?.split(',') ?? Object.keys(config.languages).filter((l) => l !== config.agnostic.sourceLang);
  const langId = await loadLangId();
  const backend = await createBackend(config, readWorkerSecrets(config), path.join(toolEnv().cacheDir, 'models'));
  console.log(`model ${backend.model}, ${config.llm.local.threads} threads, ${config.llm.local.parallelSequences} sequences; ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)}`);
  const texts: Array<{ subset: AgnosticSubset; text: string }> = [];
  for (const subset of SUBSETS) {
    for (const item of await itemsOf(config.agnostic.sources[subset][0]!, perSubset)) for (const text of item.turns) texts.push({ subset, text });
  }

  const outcomes: Outcome[] = [];
  const started = performance.now();
  for (const lang of langs) {
    const withExample = loadPack(lang, 'translate', parseTranslatePack);
    const packs: Record<Arm, TranslatePack> = { plain: { ...withExample, example: undefined }, example: withExample };
    const entry = config.languages[lang]!;
    const jobs = texts.flatMap(({ subset, text }) => splitForTranslation(text).filter((p) => p.translate).map((p) => ({ subset, text: p.text })));
    await Promise.all(
      jobs.flatMap(({ subset, text }) =>
        ARMS.map(async (arm) => {
          const attempt = translationAttempt(text, 0);
          const pack = packs[arm];
          const sourceTokens = countTokens(attempt.masked);
          const result = await backend.chat({ messages: renderTranslateMessages(pack, attempt.prompt, { subset }), maxTokens: Math.max(256, sourceTokens * 3), temperature: 0, topP: config.llm.topP, seed: config.seed });
          const accepted = acceptTranslation(
            { text: attempt.asMasked(result.content), finishReason: result.finishReason, slots: attempt.slots },
            { langId, expectedLabel: entry.fasttextLabel, instructions: translateInstructions(pack, subset), source: attempt.masked, scriptConversion: entry.scriptConversion },
          );
          outcomes.push({ lang, subset, arm, reason: accepted.ok ? undefined : accepted.reason, promptTokens: result.promptTokens, completionTokens: result.completionTokens });
        }),
      ),
    );
    console.error(`${lang}: ${jobs.length} pieces done (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  await backend.close?.();

  const of = (f: (o: Outcome) => boolean, arm: Arm) => outcomes.filter((o) => o.arm === arm && f(o));
  const cell = (xs: Outcome[]) => `${xs.filter((o) => o.reason === undefined).length}/${xs.length}`;
  const reasons = (xs: Outcome[]) => {
    const counts = new Map<string, number>();
    for (const o of xs) if (o.reason) counts.set(o.reason, (counts.get(o.reason) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r.replace(/^translate_/, '')} ${n}`).join(', ') || '-';
  };
  console.log('\n| lang | subset | kept, plain | kept, example | drops, plain | drops, example |\n|---|---|---|---|---|---|');
  for (const lang of langs) {
    for (const subset of SUBSETS) {
      const f = (o: Outcome) => o.lang === lang && o.subset === subset;
      console.log(`| ${lang} | ${subset} | ${cell(of(f, 'plain'))} | ${cell(of(f, 'example'))} | ${reasons(of(f, 'plain'))} | ${reasons(of(f, 'example'))} |`);
    }
  }
  const all = () => true;
  console.log(`| all | all | ${cell(of(all, 'plain'))} | ${cell(of(all, 'example'))} | ${reasons(of(all, 'plain'))} | ${reasons(of(all, 'example'))} |`);
  for (const arm of ARMS) {
    const xs = of(all, arm);
    console.log(`${arm}: ${(xs.reduce((n, o) => n + o.promptTokens, 0) / xs.length).toFixed(0)} prompt and ${(xs.reduce((n, o) => n + o.completionTokens, 0) / xs.length).toFixed(0)} completion tokens per piece`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
