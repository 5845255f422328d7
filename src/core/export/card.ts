/**
 * The build's `manifest.json` type and the dataset card `README.md` in the Hugging Face
 * dataset-card style (YAML front matter + prose), rendered from it.
 */
import { stringify } from 'yaml';
import { z } from 'zod';
import type { Funnel } from '../stats';
import { SUBSET_LABELS, formatCount, parseDatasetFileName, renderTable, renderTables, type DatasetStats } from './stats';

const stepStatsSchema = z.object({
  total: z.number(),
  kept: z.number(),
  dropped: z.number(),
  byReason: z.record(z.string(), z.number()),
  ms: z.number(),
  tokens: z.number(),
});

/** LLM usage of one stage. */
export const llmUsageSchema = z.object({
  calls: z.number().int().min(0),
  promptTokens: z.number().int().min(0),
  completionTokens: z.number().int().min(0),
  estimatedCostUsd: z.number().min(0),
});

/** Schema of `manifest.json`, written by assembly and read back by `stats`/`export`. */
export const datasetManifestSchema = z.object({
  name: z.string().default('ultralink'),
  createdAt: z.string(),
  configHash: z.string(),
  seed: z.union([z.number(), z.string()]),
  codeVersion: z.string(),
  /** Role (e.g. `dialogue`, `translate`, `culture_filter`) → model id. */
  models: z.record(z.string(), z.string()),
  /** Language → prompt-pack version. */
  promptPacks: z.record(z.string(), z.string()),
  languages: z.array(z.string()),
  /** Per output file (base name) → dialogues and turns. */
  files: z.record(z.string(), z.object({ dialogues: z.number().int().min(0), turns: z.number().int().min(0) })),
  /** Stage → its funnel (step → StepStats). */
  funnels: z.record(z.string(), z.record(z.string(), stepStatsSchema)),
  /** Stage → LLM calls, tokens and estimated cost. */
  llm: z.record(z.string(), llmUsageSchema),
  /** Who answered: an API endpoint (the cost is an estimate of its bill) or the embedded model (no bill; the cost is what an API would charge). */
  llmEndpoint: z.enum(['api', 'embedded']).default('api'),
  /** Model id → the licence of its weights, where known (the registry models the embedded backend fetches). */
  modelLicences: z.record(z.string(), z.string()).default({}),
  /** Whole build and per stage, in milliseconds. */
  timings: z.object({ startedAt: z.string(), finishedAt: z.string(), totalMs: z.number().min(0), byStageMs: z.record(z.string(), z.number().min(0)) }),
});

/** A build's manifest (see `datasetManifestSchema`). */
export type DatasetManifest = z.output<typeof datasetManifestSchema> & { funnels: Record<string, Funnel> };

/** HF size category of a dataset by its number of dialogues. */
export function sizeCategory(n: number): string {
  const bounds: Array<[number, string]> = [
    [1e3, 'n<1K'],
    [1e4, '1K<n<10K'],
    [1e5, '10K<n<100K'],
    [1e6, '100K<n<1M'],
    [1e7, '1M<n<10M'],
  ];
  for (const [limit, label] of bounds) if (n < limit) return label;
  return '10M<n<100M';
}

/** The card's YAML front matter (without the `---` fences); `license:` stays empty for the user. */
export function cardFrontMatter(manifest: DatasetManifest): string {
  const files = Object.keys(manifest.files).filter((f) => parseDatasetFileName(f)).sort();
  const total = Object.values(manifest.files).reduce((n, f) => n + f.dialogues, 0);
  const head = {
    pretty_name: manifest.name,
    language: manifest.languages,
    multilinguality: manifest.languages.length > 1 ? 'multilingual' : 'monolingual',
    task_categories: ['text-generation'],
    tags: ['sft', 'instruction-tuning', 'multilingual', 'ultralink'],
    size_categories: [sizeCategory(total)],
    configs: files.map((file) => ({ config_name: file.replace(/\.jsonl$/, ''), data_files: [{ split: 'train', path: file }] })),
  };
  // license is deliberately blank: the build cannot know the user's terms (Wikipedia text is CC BY-SA)
  return `license: # fill in before publishing, e.g. cc-by-sa-4.0 (Wikipedia text is CC BY-SA)\n${stringify(head, { lineWidth: 0 })}`;
}

function funnelLines(manifest: DatasetManifest): string[] {
  const rows: string[][] = [];
  for (const [stage, funnel] of Object.entries(manifest.funnels)) {
    for (const [step, s] of Object.entries(funnel)) {
      const reasons = Object.entries(s.byReason).sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${formatCount(n)}`).join(', ');
      rows.push([stage, step, formatCount(s.total), formatCount(s.kept), formatCount(s.dropped), reasons || '-']);
    }
  }
  if (rows.length === 0) return ['No funnel recorded.'];
  return [renderTable(['Stage', 'Step', 'In', 'Kept', 'Dropped', 'Drop reasons'], rows, ['left', 'left', 'right', 'right', 'right', 'left'])];
}

function llmLines(manifest: DatasetManifest): string[] {
  const entries = Object.entries(manifest.llm);
  if (entries.length === 0) return ['No LLM usage recorded.'];
  const sum = entries.reduce((a, [, u]) => ({ calls: a.calls + u.calls, promptTokens: a.promptTokens + u.promptTokens, completionTokens: a.completionTokens + u.completionTokens, estimatedCostUsd: a.estimatedCostUsd + u.estimatedCostUsd }), { calls: 0, promptTokens: 0, completionTokens: 0, estimatedCostUsd: 0 });
  const row = (name: string, u: typeof sum) => [name, formatCount(u.calls), formatCount(u.promptTokens), formatCount(u.completionTokens), `$${u.estimatedCostUsd.toFixed(2)}`];
  const costHeader = manifest.llmEndpoint === 'embedded' ? 'Est. cost at API prices (embedded model: none paid)' : 'Est. cost';
  return [renderTable(['Stage', 'Calls', 'Prompt tokens', 'Completion tokens', costHeader], [...entries.map(([s, u]) => row(s, u)), row('total', sum)], ['left', 'right', 'right', 'right', 'right'])];
}

/** The dataset card: front matter, method, layout, this build's tables and provenance. */
export function renderDatasetCard(manifest: DatasetManifest, stats?: DatasetStats): string {
  const files = Object.entries(manifest.files).filter(([f]) => parseDatasetFileName(f)).sort(([a], [b]) => a.localeCompare(b));
  const fileRows = files.map(([f, c]) => {
    const p = parseDatasetFileName(f)!;
    return [`\`${f}\``, p.lang, SUBSET_LABELS[p.subset], formatCount(c.dialogues), formatCount(c.turns)];
  });
  const kv = (o: Record<string, string>) => Object.entries(o).map(([k, v]) => `- ${k}: \`${v}\``);
  return [
    '---',
    cardFrontMatter(manifest).trimEnd(),
    '---',
    '',
    `# ${manifest.name}`,
    '',
    `A multilingual supervised fine-tuning dataset in ${manifest.languages.join(', ')}, built with ultralink following the UltraLink recipe.`,
    '',
    '## How it was made',
    '',
    'Two pipelines feed four components per language:',
    '',
    `- **Language-specific chat** (\`chat_specific\`): Wikipedia articles of each language are cleaned, kept only when long enough, and cut into 1K–2K-token segments on sentence boundaries (Chinese is converted to simplified script first). For each segment an LLM writes a first question grounded in the segment, answers it, then continues the dialogue with in-depth or expansive follow-up questions, each answered with the segment still in view. The first user turn carries the segment; the dialogue stays in the article's language.`,
    `- **Language-agnostic chat, math and code** (\`chat_agnostic\`, \`math\`, \`code\`): English ShareGPT, MetaMath and Magicoder data pass a multi-criteria filter that drops conversations tied to English culture (names, places, customs, wordplay, brands…), and the rest are translated by an LLM following fixed translation principles (formulas, code and citations copied verbatim). Math and code are pruned to a small number per language, since these abilities transfer across languages.`,
    '',
    '## Files',
    '',
    'Each file is JSON Lines; a line is `{"id": "{lang}_{subset}_{n}", "data": [question_1, answer_1, question_2, answer_2, ...]}`. In `chat_specific` files the first question embeds the grounding document (framed by the language\'s template); `{lang}_chat_specific.meta.jsonl`, where present, gives the bare question per id.',
    '',
    fileRows.length ? renderTable(['File', 'Lang.', 'Component', 'Dialogues', 'Turns'], fileRows, ['left', 'left', 'left', 'right', 'right']) : 'No files.',
    '',
    ...(stats ? ['## Statistics', '', 'Lengths are cl100k_base tokens (tiktoken); question lengths exclude the grounding document.', '', renderTables(stats).trimEnd(), ''] : []),
    '## This build',
    '',
    `- config hash: \`${manifest.configHash}\``,
    `- seed: \`${manifest.seed}\``,
    `- code version: \`${manifest.codeVersion}\``,
    `- built: ${manifest.timings.startedAt} → ${manifest.timings.finishedAt} (${(manifest.timings.totalMs / 1000).toFixed(1)} s)`,
    '',
    'Models:',
    '',
    ...kv(manifest.models),
    ...Object.entries(manifest.modelLicences).map(([model, licence]) => `- licence of \`${model}\`: ${licence}`),
    '',
    'Prompt packs:',
    '',
    ...kv(manifest.promptPacks),
    '',
    '### Funnel',
    '',
    ...funnelLines(manifest),
    '',
    '### LLM usage',
    '',
    ...llmLines(manifest),
    '',
    '## License',
    '',
    'Set `license` in the header before publishing. The chat_specific text derives from Wikipedia (CC BY-SA); the translated chat, math and code parts inherit the terms of their English sources (ShareGPT, MetaMathQA, Magicoder).',
    '',
  ].join('\n');
}
