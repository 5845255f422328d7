import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config';
import { datasetManifestSchema } from '../../../src/core/export/card';
import { buildManifest, describeQualityFailure, noteProvenance, type Provenance, type StageSummary } from '../../../src/core/export/manifest';
import { emptyAccumulator, summarizeStats } from '../../../src/core/export/stats';
import { emptyStats } from '../../../src/core/stats';

const config = resolveConfig({ languages: { en: {}, fr: {} }, llm: { pricing: { inputPerMTok: 1, outputPerMTok: 2 } } });
const dropped = { ...emptyStats(), total: 3, kept: 1, dropped: 2, byReason: { translate_placeholder_lost: 2 } };
const stages: StageSummary[] = [
  { lang: 'fr', stage: 'chat_specific', quota: 1, status: 'met', funnel: { chat_specific: { ...emptyStats(), total: 1, kept: 1 } }, calls: 4, promptTokens: 1_000_000, completionTokens: 500_000, ms: 1200 },
  { lang: 'fr', stage: 'math', quota: 1, status: 'exhausted', funnel: { math: dropped, quota: { ...emptyStats(), total: 1, dropped: 1, byReason: { math_source_exhausted: 1 } } }, calls: 3, promptTokens: 10, completionTokens: 0, ms: -5 },
];

describe('buildManifest', () => {
  it('records provenance, funnels, costs at the configured prices and timings, and validates', () => {
    const prov: Provenance = { models: {}, packs: {} };
    noteProvenance(prov.models, 'dialogue', 'qwen');
    noteProvenance(prov.models, 'dialogue', 'qwen');
    noteProvenance(prov.models, 'translation', undefined);
    noteProvenance(prov.packs, 'fr.dialogue', 'fr.dialogue.v3');
    const stats = summarizeStats([{ file: 'fr_chat_specific.jsonl', lang: 'fr', subset: 'chat_specific', acc: { ...emptyAccumulator(), dialogues: 1, turns: 2 } }]);
    const manifest = buildManifest({ config, stages, startedAt: '2026-12-06T10:00:00.000Z', finishedAt: '2026-12-06T10:00:02.500Z', prov, stats, codeVersion: '0.1.0', configHash: 'abc', licenceOf: (m) => (m === 'qwen' ? 'Apache-2.0' : undefined) });
    expect(datasetManifestSchema.safeParse(manifest).success).toBe(true);
    expect(manifest.models).toEqual({ dialogue: 'qwen' });
    expect(manifest.modelLicences).toEqual({ qwen: 'Apache-2.0' });
    expect(manifest.promptPacks).toEqual({ 'fr.dialogue': 'fr.dialogue.v3' });
    expect(manifest.llm['fr/chat_specific']).toEqual({ calls: 4, promptTokens: 1_000_000, completionTokens: 500_000, estimatedCostUsd: 2 });
    expect(manifest.funnels['fr/math']).toEqual(stages[1]!.funnel);
    // Activity and workflow clocks differ: a negative stage time reads as 0.
    expect(manifest.timings).toEqual({ startedAt: '2026-12-06T10:00:00.000Z', finishedAt: '2026-12-06T10:00:02.500Z', totalMs: 2500, byStageMs: { 'fr/chat_specific': 1200, 'fr/math': 0 } });
    expect(manifest).toMatchObject({ configHash: 'abc', codeVersion: '0.1.0', llmEndpoint: 'embedded', files: { 'fr_chat_specific.jsonl': { dialogues: 1, turns: 2 } } });
  });
});

describe('describeQualityFailure', () => {
  it('names an empty file with the drop reasons of its stage, and any other threshold as it is', () => {
    expect(describeQualityFailure({ file: 'fr_math.jsonl', threshold: 'minRecords', value: 0, limit: 1 }, stages)).toBe(
      'fr_math.jsonl: minRecords 0 (limit 1): dropped translate_placeholder_lost ×2, math_source_exhausted ×1',
    );
    expect(describeQualityFailure({ file: 'fr_math.jsonl', threshold: 'maxEmptyTurnShare', value: 0.5, limit: 0.1 }, stages)).toBe('fr_math.jsonl: maxEmptyTurnShare 0.5 (limit 0.1)');
  });
});
