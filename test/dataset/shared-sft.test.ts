import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { computeDatasetReport } from '../../src/dataset/report';
import { HAVE_SHARED_DATA, SHARED_DATA_MISSING, sharedData } from '../support/shared-data';

if (!HAVE_SHARED_DATA) console.warn(SHARED_DATA_MISSING);

describe.skipIf(!HAVE_SHARED_DATA)('quality report on real ShareGPT records (shared data)', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finds the real defects of the 55 ShareGPT conversations', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ultralink-sft-'));
    const records: Array<{ conversations: Array<{ value: string }> }> = [];
    for (const f of ['sft/sharegpt_sample__Venkat2811-chat-demo-playground.json', 'sft/sharegpt_original_example__salesforce-DialogStudio.json']) {
      records.push(...JSON.parse(await readFile(sharedData(f), 'utf8')));
    }
    const lines = records.map((r, i) => JSON.stringify({ id: `en_chat_agnostic_${i}`, data: r.conversations.map((c) => c.value) }));
    await writeFile(path.join(dir, 'en_chat_agnostic.jsonl'), `${lines.join('\n')}\n`);

    const report = await computeDatasetReport(dir, { quality: { sampleSize: 3 } });
    expect(report.stats.overall).toMatchObject({ dialogues: 55, turns: 64 });
    const q = report.quality.files[0];
    // what reading the records shows: answers cut mid-sentence, a French answer, "Acknowledged." replies, repeated records
    expect(q.truncated.examples).toEqual(['en_chat_agnostic_14#0', 'en_chat_agnostic_17#0', 'en_chat_agnostic_37#0', 'en_chat_agnostic_45#0']);
    expect(q.language.examples).toEqual(['en_chat_agnostic_12#0 (fr)']);
    expect(q.short.examples).toEqual(['en_chat_agnostic_27#0', 'en_chat_agnostic_41#0', 'en_chat_agnostic_49#0']);
    expect(q.duplicates.examples.map((d) => [d.id, d.of, d.kind])).toEqual([
      ['en_chat_agnostic_47', 'en_chat_agnostic_5', 'exact'],
      ['en_chat_agnostic_49', 'en_chat_agnostic_27', 'exact'],
    ]);
    expect(report.quality.failures.map((f) => f.threshold).sort()).toEqual(['maxExactDuplicateRate', 'maxShortTurnShare', 'maxTruncatedTurnShare']);
  });
});
