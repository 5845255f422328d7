/**
 * Language-specific dialogues end to end (issue 3) on the real dev server with the fake OpenAI server:
 * seeded in-depth/expansive branching, every quality gate counted in the stage funnel, the exact quota with
 * top-up and exhaustion, and a worker SIGKILL mid-dialogue that changes neither the output nor (beyond the
 * calls in flight) the LLM bill.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { startBuild, waitForBuild } from '../../src/client';
import { mergeConfigInput, type Config, type ConfigInput } from '../../src/config';
import { planNextTurn } from '../../src/core/dialogue/plan';
import type { DialoguePack } from '../../src/core/dialogue/prompt-pack';
import { stableHash } from '../../src/core/random';
import { countTraditionalOnlyChars } from '../../src/core/text/script';
import { stageWorkflowId } from '../../src/names';
import { loadDialoguePack } from '../../src/prompts/load';
import { BUILD_KEY, DONE_KEY, PROGRESS_KEY, STAGE_KEY } from '../../src/search-attributes';
import { createFsStorage } from '../../src/storage/fs-storage';
import type { BuildResult } from '../../src/workflows/build-dataset';
import { quotaStageWorkflow } from '../../src/workflows/quota-stage';
import { FAKE_SENTENCES, fakeAnswer, startFakeOpenAi, type FakeChatRequest, type FakeFaults, type FakeOpenAi } from '../support/fake-openai';
import { spawnWorker, startWorker, testClient, testConfig, testDir, waitUntil } from '../support/harness';
import { TINY_THRESHOLDS, writeTinyDump } from '../support/tiny-data';

const OpenCC = require('opencc-js') as { Converter(o: { from: string; to: string }): (s: string) => string };

let fake: FakeOpenAi;
beforeAll(async () => {
  fake = await startFakeOpenAi();
});
afterAll(async () => {
  await fake.stop();
});

type Lang = 'en' | 'zh';

/** A one-language tiny build config: `articles` articles (about 3 segments each), `quota` dialogues. */
function dialogueConfig(dir: string, opts: { lang?: Lang; articles?: number; quota: number; seed?: number; extra?: ConfigInput }): Config {
  const lang = opts.lang ?? 'en';
  const input = mergeConfigInput(
    { ...TINY_THRESHOLDS, seed: opts.seed ?? 7, languages: { [lang]: { dump: writeTinyDump(dir, lang, opts.articles ?? 2), chatSpecific: opts.quota } } },
    opts.extra ?? {},
  ) as ConfigInput;
  return testConfig(dir, fake.url, input);
}

/** What a finished build left in storage for one language. */
interface Built {
  buildId: string;
  result: BuildResult;
  raw: string;
  lines: Array<{ id: string; data: string[] }>;
  meta: Array<{ id: string; segmentId: string; turnKinds: string[]; calls: number }>;
  manifest: { funnels: Record<string, Record<string, { total: number; kept: number; dropped: number; byReason: Record<string, number> }>> };
  segments: number;
  keptIndices: number[];
  client: Client;
}

async function readBuilt(config: Config, client: Client, buildId: string, result: BuildResult, lang: string): Promise<Built> {
  const storage = createFsStorage(path.join(config.stateDir, 'data'));
  const raw = (await storage.getText(`builds/${buildId}/dataset/${lang}_chat_specific.jsonl`)) ?? '';
  const metaRaw = (await storage.getText(`builds/${buildId}/dataset/${lang}_chat_specific.meta.jsonl`)) ?? '';
  const manifest = JSON.parse((await storage.getText(`builds/${buildId}/dataset/manifest.json`))!);
  const segments = JSON.parse((await storage.getText(`builds/${buildId}/${lang}/segments/manifest.json`))!).total as number;
  const keptIndices: number[] = [];
  for (const key of (await storage.list(`builds/${buildId}/${lang}/chat_specific/batches/`)).sort()) keptIndices.push(...JSON.parse((await storage.getText(key))!).kept);
  const parse = (text: string) => text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
  return { buildId, result, raw, lines: parse(raw), meta: parse(metaRaw), manifest, segments, keptIndices, client };
}

/** Runs one build on an in-process worker and reads its outputs. */
async function build(config: Config, lang: Lang = 'en'): Promise<Built> {
  const worker = await startWorker(config);
  try {
    const client = await testClient(config);
    const { buildId } = await startBuild(client, config);
    const result = await waitForBuild(client, buildId);
    return await readBuilt(config, client, buildId, result, lang);
  } finally {
    await worker.stop();
  }
}

function stageOf(b: Built, lang: string) {
  const s = b.result.stages.find((x) => x.lang === lang && x.stage === 'chat_specific');
  if (!s) throw new Error(`no chat_specific stage for ${lang}`);
  return s;
}

/** The stage workflow's search attributes as the UI lists them. */
async function stageAttributes(b: Built, lang: string) {
  const d = await b.client.workflow.getHandle(stageWorkflowId(b.buildId, lang, 'chat_specific')).describe();
  const sa = d.typedSearchAttributes;
  return { build: sa.get(BUILD_KEY), stage: sa.get(STAGE_KEY), progress: sa.get(PROGRESS_KEY), done: sa.get(DONE_KEY) };
}

function chatCalls(): number {
  return fake.log.filter((e) => e.path.endsWith('/chat/completions')).length;
}

/** Which pack part a request was rendered from, by its system message. */
function partOf(pack: DialoguePack, req: FakeChatRequest): keyof DialoguePack | undefined {
  const system = req.messages.find((m) => m.role === 'system')?.content ?? '';
  const parts = ['initialQuestion', 'initialAnswer', 'inDepthQuestion', 'expansiveQuestion', 'followupAnswer'] as const;
  return parts.find((p) => system === `${pack[p].system}\n\n${pack[p].principles}`);
}

/** The document a dialogue prompt is grounded in. */
function documentOf(req: FakeChatRequest): string {
  return /<document>\n([\s\S]*?)\n<\/document>/.exec(req.messages.find((m) => m.role === 'user')?.content ?? '')?.[1] ?? '';
}

function expectFunnelBalanced(b: Built, lang: string): void {
  for (const [step, s] of Object.entries(stageOf(b, lang).funnel)) {
    expect(s.total, `${step}: total = kept + dropped`).toBe(s.kept + s.dropped);
    expect(Object.values(s.byReason).reduce((n, k) => n + k, 0), `${step}: reasons sum to dropped`).toBe(s.dropped);
  }
}

describe('dialogue branching', () => {
  it('branches both ways, reproduces byte for byte for a seed, and re-plans for another seed', async () => {
    fake.reset();
    const opts = { articles: 4, quota: 8, extra: { dialogue: { maxTurns: 4, endProbability: 0.1 } } };
    const [a, b, c] = await Promise.all([
      build(dialogueConfig(testDir('branch-a'), opts)),
      build(dialogueConfig(testDir('branch-b'), opts)),
      build(dialogueConfig(testDir('branch-c'), { ...opts, seed: 8 })),
    ]);
    expect(a.lines).toHaveLength(8);
    const kinds = a.meta.flatMap((m) => m.turnKinds);
    expect(kinds).toContain('in_depth');
    expect(kinds).toContain('expansive');
    expect(a.meta.every((m) => m.turnKinds[0] === 'initial')).toBe(true);
    // Each line holds exactly the turns of its plan: q/a per kind.
    a.lines.forEach((l, i) => expect(l.data).toHaveLength(2 * a.meta[i]!.turnKinds.length));
    expect(b.raw).toBe(a.raw);
    const plan = (x: Built) => Object.fromEntries(x.meta.map((m) => [m.segmentId, m.turnKinds.join(',')]));
    expect(plan(c)).not.toEqual(plan(a));
    expect(c.raw).not.toBe(a.raw);
    expectFunnelBalanced(a, 'en');
  });
});

describe('quality gates', () => {
  const enPack = loadDialoguePack('en');
  // Every first turn fails: the whole source is drawn, every segment dropped with the gate's reason.
  const firstTurn: Array<{ name: string; reason: string; faults?: FakeFaults; extra?: ConfigInput; callsPerSegment: number }> = [
    { name: 'context overflow', reason: 'dialogue_context_overflow', extra: { llm: { contextWindow: 300 } }, callsPerSegment: 0 },
    { name: 'truncation', reason: 'dialogue_truncated', faults: { truncateAll: true }, callsPerSegment: 1 },
    { name: 'short answer', reason: 'dialogue_too_short', extra: { dialogue: { minAnswerTokens: 400 } }, callsPerSegment: 2 },
    { name: 'wrong language', reason: 'dialogue_wrong_language', faults: { wrongLanguage: 'fr' }, callsPerSegment: 1 },
  ];
  it.each(firstTurn)('$name on the first turn drops the segment as $reason', async ({ reason, faults, extra, callsPerSegment }) => {
    fake.reset();
    if (faults) fake.setFaults(faults);
    const b = await build(dialogueConfig(testDir(reason), { quota: 3, extra }));
    const stage = stageOf(b, 'en');
    expect(b.segments).toBeGreaterThan(3);
    expect(b.lines).toHaveLength(0);
    expect(stage.status).toBe('exhausted');
    expect(stage.funnel.chat_specific).toMatchObject({ total: b.segments, kept: 0, dropped: b.segments, byReason: { [reason]: b.segments } });
    expect(b.manifest.funnels['en/chat_specific']!.chat_specific!.byReason).toEqual({ [reason]: b.segments });
    expect(chatCalls()).toBe(callsPerSegment * b.segments);
    expectFunnelBalanced(b, 'en');
  });

  it('a failure after the first turn ends the dialogue at the last good turn and counts it as ended early', async () => {
    fake.reset();
    fake.setFaults({ respond: (req) => (['inDepthQuestion', 'expansiveQuestion'].includes(partOf(enPack, req) ?? '') ? FAKE_SENTENCES.fr[0]! : fakeAnswer(req.messages, { maxTokens: req.maxTokens })) });
    const config = dialogueConfig(testDir('ended-early'), { articles: 3, quota: 6, extra: { dialogue: { maxTurns: 3 } } });
    const b = await build(config);
    const stage = stageOf(b, 'en');
    const planned = b.keptIndices.filter((i) => planNextTurn({ seed: config.seed, segmentId: `en:${i}`, completedTurns: 1, options: config.dialogue }) !== 'end').length;
    expect(planned).toBeGreaterThan(0);
    expect(b.lines).toHaveLength(6);
    expect(b.lines.every((l) => l.data.length === 2)).toBe(true);
    expect(b.meta.every((m) => m.turnKinds.join() === 'initial')).toBe(true);
    expect(stage.funnel.chat_specific).toMatchObject({ kept: 6, dropped: 0 });
    expect(stage.funnel.full_length).toMatchObject({ total: 6, kept: 6 - planned, dropped: planned, byReason: planned > 0 ? { dialogue_wrong_language: planned } : {} });
    expectFunnelBalanced(b, 'en');
  });

  it('traditional zh output is converted to simplified, not dropped', async () => {
    fake.reset();
    const zhPack = loadDialoguePack('zh');
    const toTraditional = OpenCC.Converter({ from: 'cn', to: 'tw' });
    const question = toTraditional('为什么这个湖是由冰川形成的？科学家是怎样知道这一点的？');
    const answer = toTraditional(FAKE_SENTENCES.zh.slice(2, 6).join(''));
    expect(countTraditionalOnlyChars(question + answer)).toBeGreaterThan(5);
    fake.setFaults({ respond: (req) => (partOf(zhPack, req)?.endsWith('Question') ? question : answer) });
    // Stated explicitly: resolveConfig currently lets the partial schema's default 'none' override zh's t2s.
    const b = await build(dialogueConfig(testDir('t2s'), { lang: 'zh', quota: 3, extra: { languages: { zh: { scriptConversion: 't2s' } } } }), 'zh');
    const stage = stageOf(b, 'zh');
    expect(b.lines).toHaveLength(3);
    expect(stage.funnel.chat_specific).toMatchObject({ total: 3, kept: 3, dropped: 0 });
    for (const line of b.lines) {
      for (const text of line.data) expect(countTraditionalOnlyChars(text), text).toBe(0);
      expect(line.data[1]).toBe(FAKE_SENTENCES.zh.slice(2, 6).join(''));
    }
  });
});

describe('exact quota', () => {
  it('tops up dropped segments with the next draws and meets the quota exactly', async () => {
    fake.reset();
    // Segments whose document hashes odd get French answers: their first turn fails the language gate.
    const rejected = (req: FakeChatRequest) => parseInt(stableHash(documentOf(req)).slice(-1), 16) % 2 === 1;
    fake.setFaults({ respond: (req) => (rejected(req) ? FAKE_SENTENCES.fr[1]! : fakeAnswer(req.messages, { maxTokens: req.maxTokens })) });
    const b = await build(dialogueConfig(testDir('top-up'), { articles: 6, quota: 5 }));
    const stage = stageOf(b, 'en');
    expect(b.lines.map((l) => l.id)).toEqual([0, 1, 2, 3, 4].map((n) => `en_chat_specific_${n}`));
    expect(b.meta.map((m) => m.id)).toEqual(b.lines.map((l) => l.id));
    expect(stage.status).toBe('met');
    expect(stage.funnel.chat_specific!.kept).toBe(5);
    expect(stage.funnel.chat_specific!.dropped).toBeGreaterThan(0);
    expect(stage.funnel.chat_specific!.byReason).toEqual({ dialogue_wrong_language: stage.funnel.chat_specific!.dropped });
    expect(stage.funnel.quota).toMatchObject({ total: 5, kept: 5, dropped: 0 });
    expectFunnelBalanced(b, 'en');
    expect(await stageAttributes(b, 'en')).toEqual({ build: b.buildId, stage: 'chat_specific', progress: 100, done: 5 });
  });

  it('with control.speculation, draws more candidates once drops show they are needed and writes the same dataset', async () => {
    fake.reset();
    const rejected = (req: FakeChatRequest) => parseInt(stableHash(documentOf(req)).slice(-1), 16) % 2 === 1;
    fake.setFaults({ respond: (req) => (rejected(req) ? FAKE_SENTENCES.fr[1]! : fakeAnswer(req.messages, { maxTokens: req.maxTokens })) });
    const opts = { articles: 6, quota: 5 };
    const exact = await build(dialogueConfig(testDir('speculation-off'), opts));
    const speculative = await build(dialogueConfig(testDir('speculation-on'), { ...opts, extra: { control: { speculation: 4 } } }));
    expect(speculative.raw).toBe(exact.raw);
    expect(speculative.raw).not.toBe('');
    const [e, s] = [stageOf(exact, 'en').funnel, stageOf(speculative, 'en').funnel];
    // The first batch (5 positions) drops some; the exact stage then admits only the shortfall, the speculative one more.
    expect(s.chat_specific!.total).toBeGreaterThan(e.chat_specific!.total);
    const surplus = s.chat_specific!.kept - 5;
    expect(s.quota).toMatchObject({ kept: 5, dropped: surplus, byReason: surplus > 0 ? { chat_specific_over_quota: surplus } : {} });
    expect(e.quota).toMatchObject({ total: 5, kept: 5, dropped: 0 });
    expectFunnelBalanced(speculative, 'en');
  });

  it('says exhausted, in the stage and the manifest, when segments run out', async () => {
    fake.reset();
    const b = await build(dialogueConfig(testDir('exhausted'), { quota: 100 }));
    const stage = stageOf(b, 'en');
    expect(stage.status).toBe('exhausted');
    expect(b.lines).toHaveLength(b.segments);
    expect(b.lines.map((l) => l.id)).toEqual(b.lines.map((_, n) => `en_chat_specific_${n}`));
    const short = 100 - b.segments;
    expect(b.manifest.funnels['en/chat_specific']!.quota).toMatchObject({ total: 100, kept: b.segments, dropped: short, byReason: { chat_specific_source_exhausted: short } });
    expectFunnelBalanced(b, 'en');
    expect(await stageAttributes(b, 'en')).toEqual({ build: b.buildId, stage: 'chat_specific', progress: b.segments, done: b.segments });
  });
});

describe('continue-as-new', () => {
  it('a stage rerun over stored turns calls no LLM, hands its state over between runs and keeps the same items', async () => {
    fake.reset();
    const config = dialogueConfig(testDir('rerun'), { articles: 22, quota: 60 });
    const b = await build(config);
    expect(b.lines).toHaveLength(60);
    const calls = chatCalls();
    const worker = await startWorker(config);
    try {
      const source = { manifestKey: `builds/${b.buildId}/en/segments/manifest.json`, count: b.segments, orderKey: 'en/chat_specific' };
      const rerun = await b.client.workflow.execute(quotaStageWorkflow, {
        workflowId: `${b.buildId}/en/chat_specific-rerun`,
        taskQueue: config.temporal.workTaskQueue,
        args: [{ buildId: b.buildId, lang: 'en', stage: 'chat_specific', config, quota: 60, source, continueAsNewAfterBatches: 1 }],
      });
      expect(rerun).toMatchObject({ status: 'met', kept: 60, dropped: 0, batches: 2, runs: 2 });
      expect(rerun.funnel.chat_specific).toEqual(stageOf(b, 'en').funnel.chat_specific);
      expect(chatCalls()).toBe(calls);
      const again = await readBuilt(config, b.client, b.buildId, b.result, 'en');
      expect(again.keptIndices).toEqual(b.keptIndices);
    } finally {
      await worker.stop();
    }
  });
});

/** Time a finished LLM answer may take to reach the worker's storage (the race a SIGKILL can hit). */
const SETTLE_MS = 100;

describe('durability', () => {
  it('a worker SIGKILLed mid-dialogue changes neither the output nor the calls beyond those in flight', async () => {
    const opts = { articles: 3, quota: 6, extra: { dialogue: { maxTurns: 3 }, llm: { concurrency: 4 } } };
    fake.reset();
    fake.setFaults({ latencyMs: 150 });
    const calm = await build(dialogueConfig(testDir('calm'), opts));
    const calmCalls = chatCalls();
    expect(calm.lines).toHaveLength(6);

    fake.reset();
    fake.setFaults({ latencyMs: 400 });
    const dir = testDir('crash');
    const config = dialogueConfig(dir, opts);
    const first = spawnWorker(config, dir);
    let second: ReturnType<typeof spawnWorker> | undefined;
    try {
      const client = await testClient(config);
      const { buildId } = await startBuild(client, config);
      // Kill while a call has most of its 400 ms still to go, so it is surely cut off.
      const fresh = () => fake.log.some((e) => e.endedAt === undefined && Date.now() - e.startedAt < 200);
      await waitUntil(() => fake.log.filter((e) => e.status === 200).length >= 5 && fresh(), 90_000, 'five LLM calls done, one just started');
      const killing = Date.now();
      first.child.kill('SIGKILL');
      const killed = Date.now();
      await first.exited;
      // In flight = not yet stored by the worker: still open at the kill, or answered so shortly before that the
      // answer was still on its way into storage (the worker writes it within milliseconds of receiving it).
      const inFlight = fake.log.filter((e) => e.startedAt <= killed && (e.endedAt === undefined || e.endedAt > killing - SETTLE_MS)).length;
      fake.setFaults({ latencyMs: 50 });
      second = spawnWorker(config, dir);
      const result = await waitForBuild(client, buildId);
      const crashed = await readBuilt(config, client, buildId, result, 'en');
      const cutOff = fake.log.filter((e) => e.clientClosed).length;
      expect(cutOff).toBeGreaterThan(0);
      expect(crashed.raw).toBe(calm.raw);
      expect(chatCalls()).toBeGreaterThanOrEqual(calmCalls + cutOff);
      expect(chatCalls()).toBeLessThanOrEqual(calmCalls + inFlight);
    } finally {
      first.child.kill('SIGKILL');
      if (second) {
        second.child.kill('SIGTERM');
        await second.exited;
      }
    }
  });
});
