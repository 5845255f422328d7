import { describe, expect, it } from 'vitest';
import { renderLanguageSummary, summariseLanguages, type StageCounts } from '../../../src/core/export/build-summary';
import type { StepStats } from '../../../src/core/stats';

const step = (byReason: Record<string, number>): StepStats => {
  const dropped = Object.values(byReason).reduce((a, b) => a + b, 0);
  return { total: dropped + 1, kept: 1, dropped, byReason, ms: 0, tokens: 0 };
};

describe('per-language build summary', () => {
  const stages: StageCounts[] = [
    { lang: 'zh', stage: 'chat_specific', quota: 2, funnel: { question: step({ dialogue_wrong_language: 1 }), answer: step({ dialogue_truncated: 2, dialogue_too_short: 1 }) } },
    { lang: 'zh', stage: 'math', quota: 1, funnel: { translate: step({ translate_wrong_language: 3 }), quota: step({ math_source_exhausted: 1 }) } },
    { lang: 'en', stage: 'culture_filter', quota: 14, funnel: { judge: step({ agnostic_culture_specific: 4 }) } },
  ];
  const files = { 'zh_math.jsonl': 0, 'zh_chat_specific.jsonl': 2, 'en_math.jsonl': 5 };

  it('lists each file with kept/asked and its stage drop reasons, most frequent first, in Table 1 order', () => {
    const summary = summariseLanguages(files, stages);
    expect(summary.get('zh')).toEqual([
      { subset: 'chat_specific', written: 2, asked: 2, drops: [['dialogue_truncated', 2], ['dialogue_too_short', 1], ['dialogue_wrong_language', 1]] },
      { subset: 'math', written: 0, asked: 1, drops: [['translate_wrong_language', 3], ['math_source_exhausted', 1]] },
    ]);
    // English pass-through has no stage: no quota, no drops
    expect(summary.get('en')).toEqual([{ subset: 'math', written: 5, asked: undefined, drops: [] }]);
  });

  it('renders one line per language with the top reasons', () => {
    expect(renderLanguageSummary(summariseLanguages(files, stages), 1)).toEqual([
      'en      5 records  math 5',
      'zh      2 records  chat_specific 2/2 (dropped: dialogue_truncated ×2) · math 0/1 (dropped: translate_wrong_language ×3)',
    ]);
  });
});
