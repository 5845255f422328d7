/** The terminal progress renderer's pure parts: bars, durations, rate/ETA, cost, rows and list lines. */
import { describe, expect, it } from 'vitest';
import {
  estimateCost,
  formatCount,
  formatDuration,
  isStageResult,
  parseStageWorkflowId,
  progressBar,
  pushSample,
  rateAndEta,
  renderBuildHeader,
  renderBuildLine,
  renderRow,
  displayPricing,
  renderRows,
  rowFromQuery,
  rowFromResult,
  rowFromSearchAttributes,
  type StageRow,
} from '../../src/cli/build-progress';

const PRICING = { inputPerMTok: 0.5, outputPerMTok: 1.5 };

describe('progressBar', () => {
  it.each([
    [0, 10, '░░░░░░░░░░'],
    [0.5, 10, '█████░░░░░'],
    [1, 10, '██████████'],
    [1.7, 4, '████'],
    [-1, 4, '░░░░'],
    [Number.NaN, 4, '░░░░'],
  ])('%s of %s cells', (fraction, width, bar) => {
    expect(progressBar(fraction, width)).toBe(bar);
  });
});

describe('formatDuration and formatCount', () => {
  it.each([
    [undefined, '-'],
    [-3, '-'],
    [Infinity, '-'],
    [42.4, '42s'],
    [185, '3m05s'],
    [3720, '1h02m'],
  ])('duration %s → %s', (s, text) => {
    expect(formatDuration(s)).toBe(text);
  });
  it.each([
    [undefined, '-'],
    [950, '950'],
    [12_345, '12.3k'],
    [4_600_000, '4.6M'],
  ])('count %s → %s', (n, text) => {
    expect(formatCount(n)).toBe(text);
  });
});

describe('rateAndEta', () => {
  it.each([
    { name: 'one sample: nothing to measure', samples: [{ atMs: 0, done: 3 }], total: 10, want: {} },
    { name: 'no elapsed time', samples: [{ atMs: 5, done: 1 }, { atMs: 5, done: 2 }], total: 10, want: {} },
    { name: '2 per second, 6 to go', samples: [{ atMs: 0, done: 0 }, { atMs: 2_000, done: 4 }], total: 10, want: { rate: 2, etaSeconds: 3 } },
    { name: 'stalled: rate 0, no ETA', samples: [{ atMs: 0, done: 4 }, { atMs: 2_000, done: 4 }], total: 10, want: { rate: 0 } },
    { name: 'done: ETA 0', samples: [{ atMs: 0, done: 8 }, { atMs: 1_000, done: 10 }], total: 10, want: { rate: 2, etaSeconds: 0 } },
    { name: 'unknown total: rate only', samples: [{ atMs: 0, done: 0 }, { atMs: 1_000, done: 5 }], total: undefined, want: { rate: 5 } },
  ])('$name', ({ samples, total, want }) => {
    expect(rateAndEta(samples, total)).toEqual(want);
  });

  it('keeps only samples within the window', () => {
    let s = pushSample([], { atMs: 0, done: 0 }, 10_000);
    s = pushSample(s, { atMs: 5_000, done: 5 }, 10_000);
    s = pushSample(s, { atMs: 12_000, done: 9 }, 10_000);
    expect(s).toEqual([
      { atMs: 5_000, done: 5 },
      { atMs: 12_000, done: 9 },
    ]);
  });
});

describe('estimateCost', () => {
  it('prices prompt and completion tokens separately when split', () => {
    expect(estimateCost({ promptTokens: 1_000_000, completionTokens: 2_000_000 }, PRICING)).toBeCloseTo(3.5);
  });
  it('uses the mean price when only the total is known', () => {
    expect(estimateCost({ tokens: 2_000_000 }, PRICING)).toBeCloseTo(2);
  });
  it('is zero without tokens', () => {
    expect(estimateCost({}, PRICING)).toBe(0);
  });
});

describe('rows', () => {
  it('builds a running row from the progress query with percent and cost', () => {
    const r = rowFromQuery('zh', 'chat_specific', { done: 3, total: 12, dropped: 1, inFlight: 2, calls: 9, tokens: 1_000_000 }, PRICING);
    expect(r).toMatchObject({ lang: 'zh', stage: 'chat_specific', status: 'running', done: 3, total: 12, percent: 25, dropped: 1, inFlight: 2 });
    expect(r.costUsd).toBeCloseTo(1);
  });
  it('caps the percent at 100 and treats an empty quota as done', () => {
    expect(rowFromQuery('en', 'math', { done: 5, total: 4 }, PRICING).percent).toBe(100);
    expect(rowFromQuery('en', 'math', { done: 0, total: 0 }, PRICING).percent).toBe(100);
  });
  it.each([
    { status: 'completed', sa: {}, want: { done: undefined, percent: 100 } },
    { status: 'completed', sa: { UltralinkDone: [7], UltralinkProgress: [100] }, want: { done: 7, percent: 100 } },
    { status: 'failed', sa: { UltralinkDone: [2], UltralinkProgress: [40] }, want: { done: 2, percent: 40 } },
    { status: 'running', sa: {}, want: { done: undefined, percent: undefined } },
  ])('search attributes of a $status stage', ({ status, sa, want }) => {
    expect(rowFromSearchAttributes('fr', 'knowledge', status, sa)).toMatchObject({ lang: 'fr', stage: 'knowledge', status, ...want });
  });

  it('renders bar, counts, rate, ETA, tokens and cost on one line', () => {
    const r: StageRow = { lang: 'zh', stage: 'math', status: 'running', done: 5, total: 10, percent: 50, rate: 0.5, etaSeconds: 10, tokens: 12_345, costUsd: 0.0123, inFlight: 2 };
    const line = renderRow(r);
    expect(line).toContain('██████████░░░░░░░░░░');
    expect(line).toContain(' 50%');
    expect(line).toContain('5/10');
    expect(line).toContain('0.50/s');
    expect(line).toContain('eta 10s');
    expect(line).toContain('in flight 2');
    expect(line).toContain('tok 12.3k');
    expect(line).toContain('$0.0123');
    expect(line.endsWith('running')).toBe(true);
  });
  it('builds a completed row from a quota stage result with exact cost', () => {
    const result = { quota: 4, kept: 4, dropped: 3, calls: 20, promptTokens: 1_000_000, completionTokens: 1_000_000, status: 'met' };
    expect(isStageResult(result)).toBe(true);
    expect(rowFromResult('ru', 'code', result, PRICING)).toEqual({ lang: 'ru', stage: 'code', status: 'completed', done: 4, total: 4, percent: 100, dropped: 3, calls: 20, tokens: 2_000_000, costUsd: 2 });
  });
  it('shows a speculative stage that kept more than asked as its quota met (the dataset gets the quota)', () => {
    const result = { quota: 2, kept: 5, dropped: 3, calls: 40, promptTokens: 1_000, completionTokens: 500, status: 'met' };
    expect(rowFromResult('es', 'chat_specific', result, PRICING)).toMatchObject({ done: 2, total: 2, percent: 100 });
    expect(renderRow(rowFromResult('es', 'chat_specific', result, PRICING))).toMatch(/ 2\/2 /);
  });
  it.each([[undefined], [null], [{ manifestKey: 'k', total: 3 }], [{ quota: 1, kept: 1, dropped: 0, promptTokens: '5', completionTokens: 1 }]])('does not take %j for a stage result', (r) => {
    expect(isStageResult(r)).toBe(false);
  });
  it('shows - for an unknown done count', () => {
    expect(renderRow({ lang: 'en', stage: 'knowledge', status: 'completed', percent: 100 })).toMatch(/100%\s+-\s+completed$/);
  });
  it('shows no ETA for a closed stage and ? for an unknown percent', () => {
    expect(renderRow({ lang: 'en', stage: 'knowledge', status: 'completed', done: 4, percent: 100 })).not.toContain('eta');
    expect(renderRow({ lang: 'en', stage: 'knowledge', status: 'running', done: 0 })).toContain('   ?');
  });
  it('sorts by language then stage and totals tokens and cost', () => {
    const rows: StageRow[] = [
      { lang: 'zh', stage: 'code', status: 'running', done: 1, total: 2, tokens: 100, costUsd: 0.5 },
      { lang: 'en', stage: 'judge', status: 'completed', done: 3, percent: 100 },
      { lang: 'zh', stage: 'chat_specific', status: 'running', done: 0, total: 1, tokens: 50, costUsd: 0.25 },
    ];
    const lines = renderRows(rows);
    expect(lines.map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual(['en judge', 'zh chat_specific', 'zh code', 'total: tok']);
    expect(lines[3]).toBe('total: tok 150  $0.7500');
  });
  it('prices a build on the embedded model as local: tokens, no dollars', () => {
    const result = { quota: 4, kept: 4, dropped: 3, calls: 20, promptTokens: 1_500_000, completionTokens: 500_000 };
    const local = rowFromResult('ru', 'code', result, displayPricing({ pricing: PRICING }));
    expect(local.costUsd).toBeUndefined();
    expect(rowFromQuery('ru', 'code', { done: 1, total: 4, tokens: 10 }, 'local').costUsd).toBeUndefined();
    expect(renderRows([local])[1]).toBe('total: tok 2.0M  local model, no API cost');
    expect(rowFromResult('ru', 'code', result, displayPricing({ baseUrl: 'http://127.0.0.1:1/v1', pricing: PRICING })).costUsd).toBe(1.5);
  });
  it('has no total line when no row carries tokens', () => {
    expect(renderRows([{ lang: 'en', stage: 'knowledge', status: 'completed', done: 1 }])).toHaveLength(1);
  });
});

describe('parseStageWorkflowId', () => {
  it.each([
    ['b1', 'b1/zh/math', { lang: 'zh', stage: 'math' }],
    ['b1', 'b1', undefined],
    ['b1', 'b1/zh', undefined],
    ['b1', 'b1/zh/math/50', undefined],
    ['b1', 'b2/zh/math', undefined],
  ])('%s: %s', (buildId, workflowId, want) => {
    expect(parseStageWorkflowId(buildId, workflowId)).toEqual(want);
  });
});

describe('renderBuildLine', () => {
  it('shows id, status, state, stage, progress and the UI link', () => {
    const line = renderBuildLine(
      { buildId: 'ul-1', status: 'RUNNING', startTime: new Date('2026-01-02T03:04:05Z'), searchAttributes: { UltralinkState: ['paused'], UltralinkStage: ['languages'], UltralinkProgress: [30] } },
      'http://ui/ul-1',
    );
    for (const part of ['ul-1', 'RUNNING', 'state=paused', 'stage=languages', '███░░░░░░░ 30%', '2026-01-02T03:04:05.000Z', 'http://ui/ul-1']) expect(line).toContain(part);
  });
  it('falls back to the workflow status when no state attribute is set', () => {
    expect(renderBuildLine({ buildId: 'ul-2', status: 'TERMINATED', searchAttributes: {} }, 'u')).toContain('state=terminated');
  });
  it.each(['TERMINATED', 'TIMED_OUT', 'CANCELLED', 'FAILED'])('a build closed as %s never shows the state it last set while running', (status) => {
    expect(renderBuildLine({ buildId: 'ul-3', status, searchAttributes: { UltralinkState: ['running'] } }, 'u')).toContain(`state=${status.toLowerCase()}`);
  });
});

describe('renderBuildHeader', () => {
  it.each([
    ['RUNNING', { UltralinkState: ['budget_paused'], UltralinkStage: ['languages'] }, 'build b  running  state=budget_paused  stage=languages'],
    ['COMPLETED', {}, 'build b  completed  state=completed  stage=-'],
    ['COMPLETED', { UltralinkState: ['done_quality_failed'], UltralinkStage: ['done'] }, 'build b  completed  state=done_quality_failed  stage=done'],
    ['TERMINATED', { UltralinkState: ['running'], UltralinkStage: ['languages'] }, 'build b  terminated  state=terminated  stage=languages'],
  ])('%s', (status, sa, line) => {
    expect(renderBuildHeader('b', status, sa)).toBe(line);
  });
});
