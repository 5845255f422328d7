/**
 * The Figure 9 judge through the real gateway and OpenAI backend against the fake server in each structured-output
 * mode (issue 15): every call passes on the first rung the endpoint accepts, and the verdicts and decisions are
 * those of the json_schema mode, which are the fake's triggers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { judgeDecision, judgeJsonSchema, parseFilterPack, parseVerdict, renderJudgeMessages, type JudgeVerdict } from '../../src/core/agnostic/judge';
import type { Verdict } from '../../src/core/stats';
import { createResponseCache } from '../../src/llm/cache';
import { createGateway } from '../../src/llm/gateway';
import { createOpenAiBackend, STRUCTURED_OUTPUT_LADDER } from '../../src/llm/openai-backend';
import { countPromptTokens } from '../../src/llm/prompt-tokens';
import { loadPack } from '../../src/prompts/load';
import { createFsStorage } from '../../src/storage/fs-storage';
import { startFakeOpenAi, type FakeOpenAi } from '../support/fake-openai';

/** Conversations and the decision the fake's triggers imply: the first criterion hit in Figure 9 order names the drop. */
const CONVERSATIONS: Array<{ turns: string[]; decision: Verdict }> = [
  { turns: ['How do I sort a list of numbers in Python?', 'Call sorted() on it: sorted([3, 1, 2]) gives [1, 2, 3].'], decision: { keep: true } },
  { turns: ['Write a marketing email for my bakery.', 'Subject: fresh bread every morning.'], decision: { keep: false, reason: 'agnostic_culture_specific:person_names' } },
  { turns: ['Suggest a marketing slogan for a bike shop.', 'Ride further, worry less.'], decision: { keep: false, reason: 'agnostic_culture_specific:organizations_brands' } },
  { turns: ['What is the derivative of x squared?', 'It is 2x.'], decision: { keep: true } },
];

let fake: FakeOpenAi;
const dirs: string[] = [];
beforeAll(async () => {
  fake = await startFakeOpenAi({
    faults: {
      judgeTrue: [
        { trigger: 'email', property: 'person_names' },
        { trigger: 'marketing', property: 'organizations_brands' },
      ],
    },
  });
});
afterAll(async () => {
  await fake.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
beforeEach(() => fake.setFaults({ structuredOutput: undefined }));

/** Judges every conversation as judgeConversation does, on a new worker's gateway (fresh backend, empty cache). */
async function judgeAll(): Promise<Array<{ verdict?: JudgeVerdict; decision: Verdict; cached: boolean }>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'structured-output-'));
  dirs.push(dir);
  const backend = createOpenAiBackend({ baseURL: fake.url, apiKey: 'test', model: 'fake-model', timeoutMs: 30_000, keyEnvVar: 'ULTRALINK_LLM_API_KEY' });
  const gateway = createGateway({ backend, cache: createResponseCache(createFsStorage(dir)), contextWindow: 16_385, countPromptTokens });
  const pack = loadPack('en', 'filter', parseFilterPack);
  const out = [];
  for (const c of CONVERSATIONS) {
    const result = await gateway.chat({ messages: renderJudgeMessages(pack, c.turns), maxTokens: 256, temperature: 0, topP: 1, seed: 7, jsonSchema: judgeJsonSchema });
    const parsed = parseVerdict(result.content);
    out.push(parsed.ok ? { verdict: parsed.verdict, decision: judgeDecision(parsed.verdict), cached: result.cached } : { decision: { keep: false, reason: parsed.reason }, cached: result.cached });
  }
  return out;
}

describe('the judge in every structured-output mode', () => {
  it.each(STRUCTURED_OUTPUT_LADDER)('%s: verdicts match the json_schema mode and the fake, each call on the accepted rung', async (mode) => {
    const reference = await judgeAll();
    expect(reference.map((r) => r.decision)).toEqual(CONVERSATIONS.map((c) => c.decision));
    fake.setFaults({ structuredOutput: mode });
    fake.log.length = 0;
    const judged = await judgeAll();
    expect(judged).toEqual(reference);
    expect(judged.every((r) => !r.cached)).toBe(true);
    const sent = (type: string | undefined) => fake.log.filter((e) => e.status === 200 && e.responseFormat?.type === type).length;
    const onRung = { json_schema: sent('json_schema'), 'json_object+schema': sent('json_object'), 'prompt-only': sent(undefined) };
    expect(onRung).toEqual({ json_schema: 0, 'json_object+schema': 0, 'prompt-only': 0, [mode]: CONVERSATIONS.length });
    // Only the first call steps down: one refused request per rung above the accepted one.
    expect(fake.log.filter((e) => e.status !== 200)).toHaveLength(STRUCTURED_OUTPUT_LADDER.indexOf(mode));
  });
});
