import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { datasetManifestSchema, renderDatasetCard, sizeCategory, type DatasetManifest } from '../../../src/core/export/card';
import { emptyAccumulator, summarizeStats } from '../../../src/core/export/stats';

const manifest: DatasetManifest = datasetManifestSchema.parse({
  name: 'ultralink-mini',
  createdAt: '2025-01-01T00:00:00Z',
  configHash: 'abc123',
  seed: 42,
  codeVersion: '0.1.0+deadbeef',
  models: { dialogue: 'gpt-3.5-turbo', translate: 'gpt-3.5-turbo' },
  promptPacks: { en: '1', zh: '1' },
  languages: ['en', 'zh'],
  files: {
    'en_chat_specific.jsonl': { dialogues: 10, turns: 25 },
    'zh_chat_specific.jsonl': { dialogues: 12, turns: 30 },
    'zh_math.jsonl': { dialogues: 5, turns: 5 },
  },
  funnels: { extract: { length_filter: { total: 10, kept: 7, dropped: 3, byReason: { extract_too_short: 3 }, ms: 5, tokens: 0 } } },
  llm: { dialogue: { calls: 80, promptTokens: 100000, completionTokens: 20000, estimatedCostUsd: 0.19 } },
  timings: { startedAt: '2025-01-01T00:00:00Z', finishedAt: '2025-01-01T00:10:00Z', totalMs: 600000, byStageMs: { extract: 1000 } },
}) as DatasetManifest;

function frontMatter(card: string): Record<string, unknown> {
  const m = /^---\n([\s\S]*?)\n---\n/.exec(card);
  if (!m) throw new Error('no front matter');
  return parse(m[1]) as Record<string, unknown>;
}

describe('dataset card', () => {
  const acc = { ...emptyAccumulator(), dialogues: 10, turns: 25, questionTokens: 500, answerTokens: 2500 };
  const card = renderDatasetCard(manifest, summarizeStats([{ file: 'en_chat_specific.jsonl', lang: 'en', subset: 'chat_specific', acc }]));
  const yaml = frontMatter(card);

  it('has valid YAML front matter with one config per file', () => {
    expect(yaml.configs).toEqual([
      { config_name: 'en_chat_specific', data_files: [{ split: 'train', path: 'en_chat_specific.jsonl' }] },
      { config_name: 'zh_chat_specific', data_files: [{ split: 'train', path: 'zh_chat_specific.jsonl' }] },
      { config_name: 'zh_math', data_files: [{ split: 'train', path: 'zh_math.jsonl' }] },
    ]);
    expect(yaml).toMatchObject({ language: ['en', 'zh'], task_categories: ['text-generation'], size_categories: ['n<1K'] });
    // present but empty: the user fills it in
    expect('license' in yaml && yaml.license).toBe(null);
  });

  it('describes this build', () => {
    for (const s of ['abc123', '0.1.0+deadbeef', 'gpt-3.5-turbo', 'extract_too_short 3', '$0.19', 'Table 1', 'w/o En']) expect(card).toContain(s);
  });

  it('labels the cost of a build on the embedded model as what an API would charge, not a bill', () => {
    const local = renderDatasetCard({ ...manifest, llmEndpoint: 'embedded', modelLicences: { 'qwen2.5-coder-0.5b-instruct-q4_k_m': 'Apache-2.0' } }, summarizeStats([{ file: 'en_chat_specific.jsonl', lang: 'en', subset: 'chat_specific', acc }]));
    expect(local).toContain('Est. cost at API prices (embedded model: none paid)');
    expect(local).toContain('- licence of `qwen2.5-coder-0.5b-instruct-q4_k_m`: Apache-2.0');
    expect(card).not.toContain('embedded model');
  });

  it.each([
    [999, 'n<1K'],
    [1000, '1K<n<10K'],
    [1_032_000, '1M<n<10M'],
  ])('size category of %i dialogues is %s', (n, label) => {
    expect(sizeCategory(n)).toBe(label);
  });
});
