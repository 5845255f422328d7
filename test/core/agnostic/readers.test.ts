import { createReadStream } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  readMagicoderEvol,
  readMagicoderOss,
  readMetaMath,
  readShareGpt,
  splitJsonRecords,
  type ReadResult,
} from '../../../src/core/agnostic/readers';
import { HAVE_SHARED_DATA, SHARED_DATA_MISSING, sharedData } from '../../support/shared-data';

const FIXTURES = path.resolve(__dirname, '../../fixtures/agnostic');

function fileChunks(file: string, highWaterMark = 1024): AsyncIterable<string> {
  return createReadStream(file, { encoding: 'utf8', highWaterMark });
}

async function* stringChunks(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function collect(results: AsyncIterable<ReadResult>) {
  const records = [];
  const malformed: Record<string, number> = {};
  const malformedAt: number[] = [];
  for await (const r of results) {
    if (r.kind === 'record') records.push(r);
    else {
      malformed[r.reason] = (malformed[r.reason] ?? 0) + 1;
      malformedAt.push(r.index);
    }
  }
  return { records, malformed, malformedAt };
}

describe('splitJsonRecords', () => {
  const cases: Array<[string, string, Array<string | { error: string }>]> = [
    ['array of objects and scalars', '[ {"a": "x,]}"}, 5, "s\\"]", [1, [2]] ]', ['{"a": "x,]}"}', '5', '"s\\"]"', '[1, [2]]']],
    ['empty array', '  []  ', []],
    ['JSONL with blank lines and CRLF', '{"a":1}\r\n\r\n{"b":2}\n', ['{"a":1}', '{"b":2}']],
    ['JSONL without final newline', '{"a":1}\n{"b":2}', ['{"a":1}', '{"b":2}']],
    ['truncated array', '[{"a":1},{"b":', ['{"a":1}', { error: 'agnostic_malformed_truncated' }]],
    ['BOM before the array', '\ufeff[{"a":1}]', ['{"a":1}']],
  ];
  for (const [name, text, expected] of cases) {
    it.each([1, 2, 3, 7, 1000])(`${name} (chunks of %i)`, async (size) => {
      const out = [];
      for await (const r of splitJsonRecords(stringChunks(text, size))) out.push('raw' in r ? r.raw : { error: r.error });
      expect(out).toEqual(expected);
    });
  }
});

describe('readMetaMath on the fixture (JSON array, 20 records, 4 malformed)', () => {
  it('normalises good records and counts malformed ones by reason', async () => {
    const { records, malformed, malformedAt } = await collect(readMetaMath(fileChunks(path.join(FIXTURES, 'metamath.json'), 257)));
    expect(records).toHaveLength(16);
    expect(malformed).toEqual({
      agnostic_malformed_missing_field: 1,
      agnostic_malformed_wrong_type: 1,
      agnostic_malformed_empty: 1,
      agnostic_malformed_not_object: 1,
    });
    expect(malformedAt).toEqual([3, 9, 14, 17]);
    const first = records[0];
    expect(first.index).toBe(0);
    expect(first.record.subset).toBe('math');
    expect(first.record.turns[0]).toMatch(/^A bakery sells 24 muffins/);
    expect(first.record.turns[1]).toMatch(/The answer is: 72$/);
    expect(first.record.meta).toMatchObject({ type: 'GSM_Rephrased' });
    expect(new Set(records.map((r) => r.record.sourceId)).size).toBe(16);
    expect(records.map((r) => r.index)).toEqual([...Array(20).keys()].filter((i) => ![3, 9, 14, 17].includes(i)));
  });

  it('ids are stable across chunkings', async () => {
    const a = await collect(readMetaMath(fileChunks(path.join(FIXTURES, 'metamath.json'), 13)));
    const b = await collect(readMetaMath(fileChunks(path.join(FIXTURES, 'metamath.json'), 65536)));
    expect(a.records.map((r) => r.record.sourceId)).toEqual(b.records.map((r) => r.record.sourceId));
  });

  it('reports a cut-off array as truncated after the complete records', async () => {
    const { records, malformed } = await collect(readMetaMath(fileChunks(path.join(FIXTURES, 'metamath-truncated.json'), 100)));
    expect(records).toHaveLength(3);
    expect(malformed).toEqual({ agnostic_malformed_missing_field: 1, agnostic_malformed_truncated: 1 });
  });
});

describe('readMagicoderOss / readMagicoderEvol on the JSONL fixtures', () => {
  it('OSS-Instruct: problem/solution, upstream index in the id, malformed counted', async () => {
    const { records, malformed } = await collect(readMagicoderOss(fileChunks(path.join(FIXTURES, 'magicoder-oss.jsonl'), 300)));
    expect(records.map((r) => r.record.meta?.lang)).toEqual(['python', 'rust', 'typescript', 'shell']);
    expect(records.every((r) => r.record.subset === 'code' && r.record.turns.length === 2)).toBe(true);
    expect(records[1].record.sourceId).toMatch(/^oss-1-[0-9a-f]{8}$/);
    expect(records[1].record.turns[1]).toContain('impl<T> Stack<T>');
    expect(malformed).toEqual({ agnostic_malformed_json: 1, agnostic_malformed_missing_field: 1, agnostic_malformed_wrong_type: 1 });
  });

  it('Evol-Instruct: instruction/response, blank lines ignored, malformed counted', async () => {
    const { records, malformed } = await collect(readMagicoderEvol(fileChunks(path.join(FIXTURES, 'magicoder-evol.jsonl'), 64)));
    expect(records).toHaveLength(3);
    expect(records[2].record.turns[0]).toMatch(/longest strictly increasing/);
    expect(malformed).toEqual({ agnostic_malformed_missing_field: 1, agnostic_malformed_not_object: 1 });
  });
});

describe('readShareGpt edge cases (JSONL)', () => {
  it('drops system turns, maps role names, trims breaks and trailing questions, rejects bad records by reason', async () => {
    const { records, malformed } = await collect(readShareGpt(fileChunks(path.join(FIXTURES, 'sharegpt-edge.jsonl'))));
    const byId = Object.fromEntries(records.map((r) => [r.record.sourceId, r.record]));
    expect(byId.edge_sys.turns).toEqual([
      'How do I reverse a list in Python?',
      'Use `items[::-1]` or `items.reverse()`.',
      'Which one is faster?',
      '`reverse()` works in place, so it avoids a copy.',
    ]);
    expect(byId.edge_sys.meta).toEqual({ systemTurns: 1, trimmedTurns: 1 });
    expect(byId.edge_break.turns).toEqual(['What is a hash map?', 'A structure that maps keys to values with average constant-time lookup.']);
    expect(byId.edge_emptyanswer.turns).toEqual(['Say nothing.']);
    expect(byId.edge_userassistant.turns).toEqual(['What is 2 + 2?', '4']);
    const derived = records.find((r) => r.index === 2)!.record;
    expect(derived.sourceId).toMatch(/^sharegpt-2-[0-9a-f]{8}$/);
    expect(malformed).toEqual({
      agnostic_malformed_unknown_role: 1,
      agnostic_malformed_missing_field: 1,
      agnostic_malformed_empty: 1,
      agnostic_malformed_wrong_type: 1,
      agnostic_malformed_no_question: 1,
    });
  });
});

describe.skipIf(!HAVE_SHARED_DATA)(`readShareGpt on the shared real samples${HAVE_SHARED_DATA ? '' : ` (${SHARED_DATA_MISSING})`}`, () => {
  it('DialogStudio: upstream ids, multi-turn conversations kept whole', async () => {
    const { records, malformed } = await collect(readShareGpt(fileChunks(sharedData('sft/sharegpt_original_example__salesforce-DialogStudio.json'))));
    expect(malformed).toEqual({});
    expect(records.map((r) => r.record.sourceId)).toContain('QWJhYvA_0');
    expect(records.map((r) => r.record.turns.length).sort((a, b) => a - b)).toEqual([2, 2, 6, 8, 10]);
  });

  it('Venkat2811 sample: no top-level id, taken from conversation_id', async () => {
    const { records, malformed } = await collect(readShareGpt(fileChunks(sharedData('sft/sharegpt_sample__Venkat2811-chat-demo-playground.json'), 8192)));
    expect(malformed).toEqual({});
    expect(records).toHaveLength(50);
    expect(records[0].record.sourceId).toBe('aLzORDR_0');
    expect(records.every((r) => r.record.turns.length === 2)).toBe(true);
  });

  it('ml-energy sample: only human turns, passed on as lone questions', async () => {
    const { records, malformed } = await collect(readShareGpt(fileChunks(sharedData('sft/ShareGPT_V3_filtered_1000__ml-energy-leaderboard-v2.json'), 65536)));
    expect(malformed).toEqual({});
    expect(records).toHaveLength(1000);
    expect(records[0].record.sourceId).toBe('wc1OQ5t_9');
    expect(records.every((r) => r.record.turns.length === 1)).toBe(true);
  });
});

describe('streaming a large generated array', () => {
  it('yields records in order while only the first chunks have been pulled', async () => {
    const total = 30_000;
    let pulled = 0;
    let pulledAtFirst = -1;
    async function* generate(): AsyncGenerator<string> {
      yield '[\n';
      for (let i = 0; i < total; i++) {
        pulled++;
        const rec = { query: `Question ${i}: what is ${i} + ${i}? ${'pad '.repeat(20)}`, response: `The answer is: ${2 * i}`, type: 'GSM_AnsAug', original_question: `q${i}` };
        yield `${i === 0 ? '' : ',\n'}${JSON.stringify(rec)}`;
      }
      yield '\n]\n';
    }
    let next = 0;
    let outOfOrder = 0;
    for await (const r of readMetaMath(generate())) {
      if (pulledAtFirst === -1) pulledAtFirst = pulled;
      if (r.kind !== 'record' || r.index !== next || r.record.turns[1] !== `The answer is: ${2 * next}`) outOfOrder++;
      next++;
    }
    expect(outOfOrder).toBe(0);
    expect(next).toBe(total);
    // Record 0 is complete once the comma after it arrives, i.e. with the second record's chunk.
    expect(pulledAtFirst).toBeLessThanOrEqual(2);
  });
});
