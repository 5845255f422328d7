/**
 * Issue 5 end to end: a tiny en+zh build (tiny dumps, the small agnostic fixtures, fake LLM) on the real dev
 * server ends with a complete dataset folder: every file, contiguous ids, a manifest that validates and agrees
 * with the files, a dataset card listing every file, Figure 13 with one bar group per language, the quality
 * report, and a Table 1 whose question length leaves the grounding document out.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startBuild, waitForBuild } from '../../src/client';
import { mergeConfigInput, type Config, type ConfigInput } from '../../src/config';
import { parseFilterPack } from '../../src/core/agnostic/judge';
import { parseTranslatePack } from '../../src/core/agnostic/translate';
import { datasetManifestSchema } from '../../src/core/export/card';
import { countTokens } from '../../src/core/text/tokens';
import { REPORT_FILES } from '../../src/dataset/report';
import { loadDialoguePack, loadPack } from '../../src/prompts/load';
import { createFsStorage } from '../../src/storage/fs-storage';
import type { Storage } from '../../src/storage/storage';
import type { BuildResult } from '../../src/workflows/build-dataset';
import { startFakeOpenAi, type FakeOpenAi } from '../support/fake-openai';
import { startWorker, testClient, testConfig, testDir } from '../support/harness';
import { REPO_ROOT } from '../support/shared-data';
import { TINY_THRESHOLDS, tinyLanguages } from '../support/tiny-data';

const fixture = (name: string) => path.join(REPO_ROOT, 'test/fixtures/agnostic', name);
const SUBSETS = ['chat_specific', 'chat_agnostic', 'math', 'code'] as const;
const DATASET_FILES = ['en', 'zh'].flatMap((lang) => SUBSETS.map((s) => `${lang}_${s}.jsonl`)).sort();

type Line = { id: string; data: string[] };

let fake: FakeOpenAi;
let config: Config;
let storage: Storage;
let result: BuildResult;
let prefix: string;

const text = async (name: string) => (await storage.getText(`${prefix}/${name}`)) ?? '';
const jsonl = async <T = Line>(name: string): Promise<T[]> => (await text(name)).split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as T);

beforeAll(async () => {
  fake = await startFakeOpenAi();
  const dir = testDir('assemble');
  const input = mergeConfigInput(
    { ...TINY_THRESHOLDS, languages: tinyLanguages(dir, ['en', 'zh'], 2) },
    {
      agnostic: {
        quotas: { chat: 1, math: 1, code: 1 },
        sources: {
          chat: [{ path: fixture('sharegpt-edge.jsonl'), format: 'sharegpt' }],
          math: [{ path: fixture('e2e-metamath.json'), format: 'metamath' }],
          code: [{ path: fixture('e2e-magicoder-oss.jsonl'), format: 'magicoder_oss' }],
        },
      },
    },
  ) as ConfigInput;
  config = testConfig(dir, fake.url, input);
  storage = createFsStorage(path.join(dir, 'data'));
  const worker = await startWorker(config);
  try {
    const client = await testClient(config);
    const { buildId } = await startBuild(client, config);
    result = await waitForBuild(client, buildId);
    prefix = result.dataset.datasetPrefix;
  } finally {
    await worker.stop();
  }
});
afterAll(async () => {
  await fake?.stop();
});

describe('assembled dataset folder', () => {
  it('holds every dataset file, sidecar, report file, manifest and card', async () => {
    const names = (await storage.list(`${prefix}/`)).map((k) => k.slice(prefix.length + 1));
    const expected = [
      ...DATASET_FILES,
      'en_chat_specific.meta.jsonl',
      'zh_chat_specific.meta.jsonl',
      // translated subsets carry their provenance sidecar; English passes through untranslated
      'zh_chat_agnostic.meta.jsonl',
      'zh_math.meta.jsonl',
      'zh_code.meta.jsonl',
      ...REPORT_FILES,
      'manifest.json',
      'README.md',
    ];
    expect(names.filter((n) => !n.includes('/')).sort()).toEqual([...expected].sort());
    expect(Object.keys(result.dataset.files).sort()).toEqual(DATASET_FILES);
  });

  it('numbers every file contiguously from 0 and meets each quota', async () => {
    for (const file of DATASET_FILES) {
      const lines = await jsonl(file);
      const base = file.replace(/\.jsonl$/, '');
      expect(lines.map((l) => l.id), file).toEqual(lines.map((_, i) => `${base}_${i}`));
      expect(lines.length, file).toBe(result.dataset.files[file]);
      for (const l of lines) expect(l.data.length % 2, `${l.id} has whole turns`).toBe(0);
    }
    expect(result.dataset.files['en_chat_specific.jsonl']).toBe(2);
    expect(result.dataset.files['zh_chat_specific.jsonl']).toBe(2);
    for (const s of ['chat_agnostic', 'math', 'code']) expect(result.dataset.files[`zh_${s}.jsonl`], s).toBe(1);
    // sidecars line up with their files id by id
    for (const lang of ['en', 'zh']) {
      const meta = await jsonl<{ id: string }>(`${lang}_chat_specific.meta.jsonl`);
      expect(meta.map((m) => m.id)).toEqual((await jsonl(`${lang}_chat_specific.jsonl`)).map((l) => l.id));
    }
  });

  it('writes a manifest that validates, with counts equal to the files and every stage, pack and model', async () => {
    const raw = JSON.parse(await text('manifest.json'));
    const manifest = datasetManifestSchema.parse(raw);
    for (const file of DATASET_FILES) {
      const lines = await jsonl(file);
      expect(manifest.files[file], file).toEqual({ dialogues: lines.length, turns: lines.reduce((n, l) => n + l.data.length / 2, 0) });
    }
    expect(manifest.seed).toBe(config.seed);
    expect(manifest.configHash).toMatch(/^[0-9a-f]{16}$/);
    expect(manifest.promptPacks).toEqual({
      'en.dialogue': loadDialoguePack('en').version,
      'zh.dialogue': loadDialoguePack('zh').version,
      'zh.translate': loadPack('zh', 'translate', parseTranslatePack).version,
      'en.filter': loadPack('en', 'filter', parseFilterPack).version,
    });
    expect(manifest.models).toEqual({ dialogue: 'fake-model', translate: 'fake-model', culture_filter: 'fake-model' });
    const stages = result.stages.map((s) => `${s.lang}/${s.stage}`).sort();
    expect(stages).toEqual(expect.arrayContaining(['en/culture_filter', 'en/knowledge', 'en/chat_specific', 'zh/knowledge', 'zh/chat_specific', 'zh/chat_agnostic', 'zh/math', 'zh/code']));
    expect(Object.keys(manifest.funnels).sort()).toEqual(stages);
    expect(Object.keys(manifest.llm).sort()).toEqual(stages);
    expect(Object.keys(manifest.timings.byStageMs).sort()).toEqual(stages);
    const zhChat = result.stages.find((s) => s.lang === 'zh' && s.stage === 'chat_specific')!;
    expect(manifest.llm['zh/chat_specific']).toMatchObject({ calls: zhChat.calls, promptTokens: zhChat.promptTokens, completionTokens: zhChat.completionTokens });
    expect(manifest.llm['zh/chat_specific'].calls).toBeGreaterThan(0);
    const expectedCost = (zhChat.promptTokens * config.llm.pricing.inputPerMTok + zhChat.completionTokens * config.llm.pricing.outputPerMTok) / 1e6;
    expect(manifest.llm['zh/chat_specific'].estimatedCostUsd).toBeCloseTo(expectedCost, 4);
    // the quality verdict rides in the manifest and in the build result, and they agree
    expect(raw.quality.failingFiles).toEqual(result.dataset.failingFiles);
    expect(result.dataset.qualityPassed).toBe(result.dataset.failingFiles.length === 0);
  });

  it('writes a dataset card whose front matter lists every file', async () => {
    const card = await text('README.md');
    const m = /^---\n([\s\S]*?)\n---\n/.exec(card);
    expect(m).not.toBeNull();
    const head = parseYaml(m![1]) as { language: string[]; configs: Array<{ config_name: string; data_files: Array<{ split: string; path: string }> }> };
    expect(head.language.sort()).toEqual(['en', 'zh']);
    expect(head.configs.map((c) => c.data_files[0].path).sort()).toEqual(DATASET_FILES);
    expect(head.configs.map((c) => c.config_name).sort()).toEqual(DATASET_FILES.map((f) => f.replace(/\.jsonl$/, '')));
    expect(m![1]).toMatch(/^license:/m);
  });

  it('draws Figure 13 with one bar group per language', async () => {
    const svg = await text('figure13.svg');
    expect(svg.startsWith('<svg')).toBe(true);
    const bars = [...svg.matchAll(/<path aria-label="(\S+) (question|answer): [\d.]+" role="graphics-symbol" aria-roledescription="bar"/g)].map((b) => `${b[1]}/${b[2]}`);
    expect(bars.sort()).toEqual(['en/answer', 'en/question', 'zh/answer', 'zh/question']);
  });

  it('writes the quality report over every file, and the build result names exactly the files it fails', async () => {
    const quality = JSON.parse(await text('quality.json')) as { files: Array<{ file: string }>; failures: Array<{ file: string }> };
    expect(quality.files.map((f) => f.file).sort()).toEqual(DATASET_FILES);
    expect(result.dataset.failingFiles).toEqual([...new Set(quality.failures.map((f) => f.file))].sort());
    // sharegpt-edge.jsonl holds "What is 2 + 2?" → "4": English keeps it whole, so 1 of its 5 turns is too short
    expect(quality.failures).toEqual([expect.objectContaining({ file: 'en_chat_agnostic.jsonl', threshold: 'maxShortTurnShare', value: 0.2 })]);
    expect(result.dataset).toMatchObject({ qualityPassed: false, failingFiles: ['en_chat_agnostic.jsonl'] });
    expect(result.dataset.qualityFailures).toEqual(['en_chat_agnostic.jsonl: maxShortTurnShare 0.2 (limit 0.02)']);
    expect(result.dataset.qualityFailures).toHaveLength(quality.failures.length);
    expect((await text('quality-sample.md')).length).toBeGreaterThan(0);
  });

  it('reports a Table 1 question length without the grounding document', async () => {
    let questionTokens = 0;
    let withDocument = 0;
    let turns = 0;
    for (const lang of ['en', 'zh']) {
      const lines = await jsonl(`${lang}_chat_specific.jsonl`);
      const meta = await jsonl<{ id: string; question: string; document: string }>(`${lang}_chat_specific.meta.jsonl`);
      lines.forEach((line, i) => {
        // the first turn embeds the document (the pack's framing) and the sidecar's bare question
        expect(line.data[0]).toContain(meta[i].document);
        expect(line.data[0]).toContain(meta[i].question);
        expect(meta[i].question).not.toContain(meta[i].document);
        for (let t = 0; t < line.data.length / 2; t++) {
          questionTokens += countTokens(t === 0 ? meta[i].question : line.data[2 * t]);
          withDocument += countTokens(line.data[2 * t]);
          turns += 1;
        }
      });
    }
    const stats = JSON.parse(await text('stats.json')) as { table1: Array<{ name: string; turns: number; question: number }> };
    const row = stats.table1.find((r) => r.name === 'Lang.Spec. Chat')!;
    expect(row.turns).toBe(turns);
    expect(row.question).toBeCloseTo(questionTokens / turns, 6);
    expect(withDocument / turns).toBeGreaterThan(row.question + 20);
  });
});
