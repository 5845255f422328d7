/**
 * Figure 13: average question and answer tokens per language, as a grouped bar chart.
 * vega-lite compiles the spec, vega renders it headless to SVG (no canvas, no browser).
 */
import { averages, type DatasetStats } from './stats';

/** One language's bar group. */
export interface LanguageLengths {
  lang: string;
  question: number;
  answer: number;
}

/** The figure's data: one entry per language, in the stats' language order. */
export function figure13Data(stats: DatasetStats): LanguageLengths[] {
  return stats.languages.map((lang) => {
    const a = averages(stats.byLanguage[lang]);
    return { lang, question: round2(a.question), answer: round2(a.answer) };
  });
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** The vega-lite spec: x = language, bars offset by kind (question/answer), y = average tokens. */
export function figure13Spec(data: LanguageLengths[]): Record<string, unknown> {
  const values = data.flatMap((d) => [
    { lang: d.lang, kind: 'question', tokens: d.question },
    { lang: d.lang, kind: 'answer', tokens: d.answer },
  ]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Number of tokens for each language',
    width: Math.max(160, 70 * data.length),
    height: 240,
    background: 'white',
    data: { values },
    transform: [{ calculate: "datum.lang + ' ' + datum.kind + ': ' + datum.tokens", as: 'label' }],
    mark: { type: 'bar', tooltip: true },
    encoding: {
      x: { field: 'lang', type: 'nominal', title: 'Language', sort: data.map((d) => d.lang), axis: { labelAngle: 0 } },
      xOffset: { field: 'kind', type: 'nominal', sort: ['question', 'answer'] },
      y: { field: 'tokens', type: 'quantitative', title: 'Average tokens (cl100k_base)' },
      color: { field: 'kind', type: 'nominal', sort: ['question', 'answer'], title: null, scale: { range: ['#4c78a8', '#f58518'] } },
      // the per-bar aria description is how tests (and screen readers) find each language's bars
      description: { field: 'label', type: 'nominal' },
    },
  };
}

// Both packages are ESM-only; a dynamic import() survives the CommonJS build (module: node16) and tsx.
type VegaModule = typeof import('vega', { with: { 'resolution-mode': 'import' } });
type VegaLiteModule = typeof import('vega-lite', { with: { 'resolution-mode': 'import' } });

/** Renders the figure to a standalone SVG string. */
export async function renderFigure13Svg(data: LanguageLengths[]): Promise<string> {
  const vl: VegaLiteModule = await import('vega-lite');
  const vega: VegaModule = await import('vega');
  const compiled = vl.compile(figure13Spec(data) as unknown as Parameters<VegaLiteModule['compile']>[0]);
  const view = new vega.View(vega.parse(compiled.spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
