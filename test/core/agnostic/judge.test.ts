import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  JUDGE_CRITERIA,
  judgeDecision,
  judgeJsonSchema,
  parseFilterPack,
  parseVerdict,
  renderJudgeMessages,
  type JudgeVerdict,
} from '../../../src/core/agnostic/judge';

const PACK_YAML = readFileSync(path.resolve(__dirname, '../../../src/prompts/en.filter.yaml'), 'utf8');
const NONE: JudgeVerdict = Object.fromEntries(JUDGE_CRITERIA.map((k) => [k, false])) as JudgeVerdict;
const allFalseJson = JSON.stringify(NONE);

describe('filter pack', () => {
  it('en.filter.yaml validates and renders every criterion, the answer example and the conversation', () => {
    const pack = parseFilterPack(PACK_YAML);
    expect(pack.version).toBe('en.filter.v1');
    const messages = renderJudgeMessages(pack, ['How do I sort a list?', 'Use sorted(items).', 'Descending?', 'sorted(items, reverse=True)']);
    expect(messages.map((m) => m.role)).toEqual(['system', 'user']);
    for (const key of JUDGE_CRITERIA) expect(messages[1].content).toContain(`${key}:`);
    expect(messages[1].content).toContain(allFalseJson);
    expect(messages[1].content).toContain('User: How do I sort a list?\n\nAssistant: Use sorted(items).\n\nUser: Descending?');
    expect(messages[1].content.trimEnd().endsWith('</conversation>')).toBe(true);
  });

  it('rejects a pack missing a criterion', () => {
    const broken = PACK_YAML.replace('key: places', 'key: person_names');
    expect(() => parseFilterPack(broken)).toThrow(/exactly once/);
  });

  it('the JSON schema requires exactly the criteria, as booleans', () => {
    expect(judgeJsonSchema.schema.required).toEqual([...JUDGE_CRITERIA]);
    expect(judgeJsonSchema.schema.additionalProperties).toBe(false);
  });
});

describe('parseVerdict', () => {
  const hitPlaces = { ...NONE, places: true };
  const table: Array<[string, string, { ok: true; verdict: JudgeVerdict } | { ok: false; reason: string }]> = [
    ['plain JSON', allFalseJson, { ok: true, verdict: NONE }],
    ['JSON in a code fence', '```json\n' + JSON.stringify(hitPlaces, null, 2) + '\n```', { ok: true, verdict: hitPlaces }],
    ['prose before and after', `Here is my verdict: ${JSON.stringify(hitPlaces)} Let me know if you need more.`, { ok: true, verdict: hitPlaces }],
    ['string booleans', JSON.stringify(Object.fromEntries(JUDGE_CRITERIA.map((k) => [k, k === 'places' ? 'true' : 'false']))), { ok: true, verdict: hitPlaces }],
    ['yes/no strings', JSON.stringify(Object.fromEntries(JUDGE_CRITERIA.map((k) => [k, k === 'places' ? 'Yes' : 'no']))), { ok: true, verdict: hitPlaces }],
    ['0/1 numbers', JSON.stringify(Object.fromEntries(JUDGE_CRITERIA.map((k) => [k, k === 'places' ? 1 : 0]))), { ok: true, verdict: hitPlaces }],
    ['near-JSON with single quotes and trailing comma', `{${JUDGE_CRITERIA.map((k) => `'${k}': ${k === 'places'}`).join(', ')},}`, { ok: true, verdict: hitPlaces }],
    ['key: value lines without braces', JUDGE_CRITERIA.map((k) => `${k}: ${k === 'places' ? 'yes' : 'no'}`).join('\n'), { ok: true, verdict: hitPlaces }],
    ['braces inside strings do not cut the object', `{"note": "a } b", ${allFalseJson.slice(1)}`, { ok: true, verdict: NONE }],
    ['no JSON at all', 'I cannot judge this conversation.', { ok: false, reason: 'judge_no_json' }],
    ['missing criterion', JSON.stringify({ ...NONE, places: undefined }), { ok: false, reason: 'judge_missing_criterion:places' }],
    ['unreadable value', JSON.stringify({ ...NONE, places: 'maybe' }), { ok: false, reason: 'judge_bad_value:places' }],
    ['an array is not a verdict', '[true, false]', { ok: false, reason: 'judge_no_json' }],
  ];
  it.each(table)('%s', (_name, text, expected) => {
    expect(parseVerdict(text)).toEqual(expected);
  });
});

describe('judgeDecision', () => {
  it('keeps a conversation when no criterion applies', () => {
    expect(judgeDecision(NONE)).toEqual({ keep: true });
  });
  it.each(JUDGE_CRITERIA.map((k) => [k]))('drops on %s alone', (key) => {
    expect(judgeDecision({ ...NONE, [key]: true })).toEqual({ keep: false, reason: `agnostic_culture_specific:${key}` });
  });
  it('names the first criterion hit in Figure 9 order', () => {
    expect(judgeDecision({ ...NONE, organizations_brands: true, places: true })).toEqual({ keep: false, reason: 'agnostic_culture_specific:places' });
  });
});
