/**
 * Which sampling temperature should the embedded model's dialogues use? (issue 15, item 4: sampling tuned per task.)
 * A dialogue's first turn as the demo makes it, once per temperature arm on the same segments: the demo config's
 * backend (model, threads, sequences, time limit), its knowledge stage on the bundled samples, each language's
 * first-question and first-answer prompts, the same seed, and the one review rule the activity applies
 * (reviewReply: cleaning and every gate). A turn is kept when its question and its answer both pass, as a
 * dialogue's first turn must. Prints, per language and arm, the turns kept, the drop reasons, tokens and seconds
 * per call, and one kept turn per language. The arms of a segment run side by side, so machine noise hits all alike.
 * Run by hand, never in tests: about 8 minutes on 2 cores with the defaults.
 *
 *   npx tsx bench/dialogue-temperature.ts [--temperatures=0.7,0.3,0] [--per-lang=5] [--langs=zh,ru,fr,es,en] [--config=samples/demo.yaml]
 */
import { reviewReply } from '../src/core/dialogue/gates';
import { renderAnswerMessages, renderQuestionMessages } from '../src/core/dialogue/render';
import type { ChatMessage } from '../src/core/messages';
import { loadDialoguePack } from '../src/prompts/load';
import { demoBench, dropCell, flag, keptCell, reviewOptionsOf, segmentsOf, type Reviewed } from './support/demo-inputs';


interface Outcome extends Reviewed {
  lang: string;
  temperature: number;
  question: string;
  answer?: string;
  calls: number;
  completionTokens: number;
  wallS: number;
}

async function main(): Promise<void> {
  const perLang = Number(flag('per-lang') ?? 5);
  const temperatures = (flag('temperatures') ?? '0.7,0.3,0').split(',').map(Number);
  const { config, langs, langId, backend } = await demoBench();

  const outcomes: Outcome[] = [];
  const started = performance.now();
  for (const lang of langs) {
    const pack = loadDialoguePack(lang);
    const segments = await segmentsOf(config, lang, langId, perLang);
    const review = (reply: Parameters<typeof reviewReply>[0], role: 'question' | 'answer', messages: ChatMessage[], document: string, question?: string) =>
      reviewReply(reply, { role, lang, messages, document, past: [], question }, reviewOptionsOf(config, lang, langId));
    await Promise.all(
      segments.flatMap((segment) =>
        temperatures.map(async (temperature) => {
          const t0 = performance.now();
          const base = { temperature, topP: config.llm.topP, seed: config.seed };
          const qMessages = renderQuestionMessages(pack, { background: segment.text, history: [], kind: 'initial' });
          const q = await backend.chat({ messages: qMessages, maxTokens: config.dialogue.maxQuestionTokens, ...base });
          const qReview = review(q, 'question', qMessages, segment.text);
          const out: Outcome = { lang, temperature, kept: false, question: qReview.verdict.keep ? qReview.text : q.content, calls: 1, completionTokens: q.completionTokens, wallS: 0 };
          if (!qReview.verdict.keep) {
            outcomes.push({ ...out, reason: qReview.verdict.reason, wallS: (performance.now() - t0) / 1000 });
            return;
          }
          const aMessages = renderAnswerMessages(pack, { background: segment.text, history: [], question: qReview.text, kind: 'initial' });
          const a = await backend.chat({ messages: aMessages, maxTokens: config.dialogue.maxAnswerTokens, ...base });
          const aReview = review(a, 'answer', aMessages, segment.text, qReview.text);
          outcomes.push({
            ...out,
            kept: aReview.verdict.keep,
            reason: aReview.verdict.keep ? undefined : aReview.verdict.reason,
            answer: aReview.verdict.keep ? aReview.text : a.content,
            calls: 2,
            completionTokens: q.completionTokens + a.completionTokens,
            wallS: (performance.now() - t0) / 1000,
          });
        }),
      ),
    );
    console.error(`${lang}: ${segments.length} segments done (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  await backend.close?.();

  const of = (lang: string | undefined, t: number) => outcomes.filter((o) => o.temperature === t && (lang === undefined || o.lang === lang));
  console.log(`\n| lang | ${temperatures.map((t) => `kept at ${t}`).join(' | ')} | ${temperatures.map((t) => `drops at ${t}`).join(' | ')} |`);
  console.log(`|---|${temperatures.map(() => '---|---|').join('')}`);
  for (const lang of [...langs, undefined]) console.log(`| ${lang ?? 'all'} | ${temperatures.map((t) => keptCell(of(lang, t))).join(' | ')} | ${temperatures.map((t) => dropCell(of(lang, t))).join(' | ')} |`);
  for (const t of temperatures) {
    const all = of(undefined, t);
    const calls = all.reduce((n, o) => n + o.calls, 0);
    const tokens = all.reduce((n, o) => n + o.completionTokens, 0);
    console.log(`temperature ${t}: ${calls} calls, ${(tokens / calls).toFixed(1)} completion tokens and ${(all.reduce((n, o) => n + o.wallS, 0) / calls).toFixed(1)} s per call`);
  }
  console.log('\nOne kept first turn per language and temperature (or the first dropped one):');
  for (const lang of langs) {
    for (const t of temperatures) {
      const pick = of(lang, t).find((o) => o.kept) ?? of(lang, t)[0];
      if (pick) console.log(`  ${lang} ${String(t).padEnd(4)} ${pick.kept ? 'kept' : pick.reason}: Q ${pick.question.replace(/\s+/g, ' ').slice(0, 120)} | A ${(pick.answer ?? '-').replace(/\s+/g, ' ').slice(0, 160)}`);
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
