import { describe, expect, it } from 'vitest';
import { figure13Data, figure13Spec, renderFigure13Svg } from '../../../src/core/export/chart';
import { summarizeStats, emptyAccumulator } from '../../../src/core/export/stats';

/** Bars of the SVG by their aria label `lang kind: tokens`, with their pixel heights. */
function bars(svg: string): Array<{ lang: string; kind: string; tokens: number; height: number }> {
  const out = [];
  for (const m of svg.matchAll(/<path aria-label="([^"]+)" role="graphics-symbol" aria-roledescription="bar" d="([^"]+)"/g)) {
    const [, label, d] = m;
    const lm = /^(\S+) (question|answer): ([\d.]+)$/.exec(label);
    const hm = /v(-?[\d.]+)h/.exec(d);
    if (!lm || !hm) throw new Error(`unexpected bar ${label} ${d}`);
    out.push({ lang: lm[1], kind: lm[2], tokens: Number(lm[3]), height: Number(hm[1]) });
  }
  return out;
}

describe('Figure 13', () => {
  const data = [
    { lang: 'en', question: 10, answer: 30 },
    { lang: 'zh', question: 12.5, answer: 44 },
    { lang: 'ru', question: 20, answer: 15 },
  ];

  it('renders one bar group (question + answer) per language', async () => {
    const svg = await renderFigure13Svg(data);
    expect(svg.startsWith('<svg')).toBe(true);
    const found = bars(svg);
    const byLang = new Map<string, string[]>();
    for (const b of found) byLang.set(b.lang, [...(byLang.get(b.lang) ?? []), b.kind]);
    expect([...byLang.keys()].sort()).toEqual(['en', 'ru', 'zh']);
    for (const kinds of byLang.values()) expect(kinds.sort()).toEqual(['answer', 'question']);
    // bar heights follow the values: ru's question is taller than its answer, zh's answer is the tallest bar
    const h = (lang: string, kind: string) => found.find((b) => b.lang === lang && b.kind === kind)!.height;
    expect(h('ru', 'question')).toBeGreaterThan(h('ru', 'answer'));
    expect(Math.max(...found.map((b) => b.height))).toBe(h('zh', 'answer'));
  });

  it('takes per-language averages from the stats', () => {
    const acc = { ...emptyAccumulator(), dialogues: 1, turns: 4, questionTokens: 10, answerTokens: 30 };
    const stats = summarizeStats([
      { file: 'zh_math.jsonl', lang: 'zh', subset: 'math', acc },
      { file: 'en_code.jsonl', lang: 'en', subset: 'code', acc: { ...acc, turns: 3 } },
    ]);
    expect(figure13Data(stats)).toEqual([
      { lang: 'en', question: 3.33, answer: 10 },
      { lang: 'zh', question: 2.5, answer: 7.5 },
    ]);
    expect((figure13Spec(figure13Data(stats)).data as { values: unknown[] }).values).toHaveLength(4);
  });
});
