/**
 * Does constraining the embedded model's questions to one line ending in a question mark (QUESTION_GBNF below) keep more
 * of them? (issue 15, item 4.) The demo's own path, twice on the same segments: the demo config's backend
 * (createBackend: model, threads, sequences, time limit), its knowledge stage (prepareDocument on the bundled
 * samples), the first-question prompt of each language's pack, the same seed and temperature, and the one review
 * rule the activity applies (reviewReply: cleaning and every gate). Only the grammar differs. Prints, per language
 * and in total, questions kept with and without it, the drop reasons, generation tokens and wall time, and one
 * question of each kind per language. The two arms alternate segment by segment, so machine noise hits both alike.
 * Run by hand, never in tests: about 5 minutes on 2 cores with the defaults.
 *
 *   npx tsx bench/question-grammar.ts [--per-lang=8] [--langs=zh,ru,fr,es,en] [--config=samples/demo.yaml]
 */
import { reviewReply } from '../src/core/dialogue/gates';
import { renderQuestionMessages } from '../src/core/dialogue/render';
import type { ChatRequest } from '../src/llm/types';
import { loadDialoguePack } from '../src/prompts/load';
import { demoBench, dropCell, flag, keptCell, reviewOptionsOf, segmentsOf, type Reviewed } from './support/demo-inputs';

/**
 * The arm's grammar: one line, with no question mark before the one it ends on (?, ？ or ؟), so the model cannot
 * write a preamble line, a second question or a trailer. Not used by the build: it kept no more questions.
 */
const QUESTION_GBNF = 'root ::= [^\\n?？؟]+ [?？؟]';
const ARMS = ['free', 'grammar'] as const;
type Arm = (typeof ARMS)[number];



interface Outcome extends Reviewed {
  lang: string;
  arm: Arm;
  text: string;
  completionTokens: number;
  wallS: number;
}

async function main(): Promise<void> {
  const perLang = Number(flag('per-lang') ?? 8);
  const { config, langs, langId, backend } = await demoBench();

  const outcomes: Outcome[] = [];
  const started = performance.now();
  for (const lang of langs) {
    const pack = loadDialoguePack(lang);
    const segments = await segmentsOf(config, lang, langId, perLang);
    // Both arms of a segment run together (one sequence each), so neither gets a quieter machine.
    await Promise.all(
      segments.flatMap((segment) =>
        ARMS.map(async (arm) => {
          const messages = renderQuestionMessages(pack, { background: segment.text, history: [], kind: 'initial' });
          const request: ChatRequest = {
            messages,
            maxTokens: config.dialogue.maxQuestionTokens,
            temperature: config.llm.temperature,
            topP: config.llm.topP,
            seed: config.seed,
            ...(arm === 'grammar' ? { gbnf: QUESTION_GBNF } : {}),
          };
          const t0 = performance.now();
          const result = await backend.chat(request);
          const { text, verdict } = reviewReply(
            result,
            { role: 'question', lang, messages, document: segment.text, past: [] },
            reviewOptionsOf(config, lang, langId),
          );
          outcomes.push({ lang, arm, kept: verdict.keep, reason: verdict.keep ? undefined : verdict.reason, text: verdict.keep ? text : result.content, completionTokens: result.completionTokens, wallS: (performance.now() - t0) / 1000 });
        }),
      ),
    );
    console.error(`${lang}: ${segments.length} segments done (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  await backend.close?.();

  const of = (lang: string | undefined, arm: Arm) => outcomes.filter((o) => o.arm === arm && (lang === undefined || o.lang === lang));
  console.log('\n| lang | kept, free | kept, grammar | drops, free | drops, grammar |\n|---|---|---|---|---|');
  for (const lang of [...langs, undefined]) console.log(`| ${lang ?? 'all'} | ${keptCell(of(lang, 'free'))} | ${keptCell(of(lang, 'grammar'))} | ${dropCell(of(lang, 'free'))} | ${dropCell(of(lang, 'grammar'))} |`);
  for (const arm of ARMS) {
    const all = of(undefined, arm);
    const tokens = all.reduce((n, o) => n + o.completionTokens, 0);
    console.log(`${arm}: ${tokens} completion tokens (${(tokens / all.length).toFixed(1)} per question), ${(all.reduce((n, o) => n + o.wallS, 0) / all.length).toFixed(1)} s per call`);
  }
  console.log('\nOne kept question per language and arm (or the first dropped reply):');
  for (const lang of langs) {
    for (const arm of ARMS) {
      const pick = of(lang, arm).find((o) => o.kept) ?? of(lang, arm)[0];
      if (pick) console.log(`  ${lang} ${arm.padEnd(7)} ${pick.kept ? 'kept' : pick.reason}: ${pick.text.replace(/\s+/g, ' ').slice(0, 200)}`);
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
