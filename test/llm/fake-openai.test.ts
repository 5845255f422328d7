import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { judgeJsonSchema, parseFilterPack, renderJudgeMessages } from '../../src/core/agnostic/judge';
import { loadLangId } from '../../src/core/text/lang-id';
import { loadPack } from '../../src/prompts/load';
import {
  FAKE_SENTENCES,
  fakeAnswer,
  fakeTokens,
  guessLanguage,
  startFakeOpenAi,
  type FakeLang,
  type FakeOpenAi,
} from '../support/fake-openai';

let fake: FakeOpenAi;
beforeAll(async () => {
  fake = await startFakeOpenAi({ models: ['fake-model', 'other-model'] });
});
afterAll(async () => {
  await fake.stop();
});
beforeEach(() => fake.reset());

type Msg = { role: string; content: string };
const user = (content: string): Msg[] => [{ role: 'user', content }];

async function chat(messages: Msg[], extra: Record<string, unknown> = {}) {
  const res = await fetch(`${fake.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer test-key' },
    body: JSON.stringify({ model: 'fake-model', messages, ...extra }),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

const SAMPLES: Record<FakeLang, string> = {
  en: 'Tell me what you know about the history of the city and its old harbour.',
  fr: 'Dis-moi ce que tu sais sur l’histoire de la ville et de son vieux port.',
  es: 'Dime lo que sabes sobre la historia de la ciudad y de su puerto antiguo.',
  ru: 'Расскажи, что ты знаешь об истории города и его старого порта.',
  zh: '请告诉我这座城市和它的老港口的历史。',
};

const schema = {
  type: 'object',
  properties: { has_jokes: { type: 'boolean' }, culture_related: { type: 'boolean' }, topic: { type: 'string' }, n: { type: 'integer' } },
  required: ['has_jokes', 'culture_related', 'topic', 'n'],
};
const rf = { response_format: { type: 'json_schema', json_schema: { name: 'judge', schema, strict: true } } };

describe('fake OpenAI server: answers', () => {
  it('answers the same request with the same text, and different requests differently', async () => {
    const a = await chat(user('What is the capital of France and why?'));
    const b = await chat(user('What is the capital of France and why?'));
    expect(a.status).toBe(200);
    expect(a.json.choices[0].message.content).toBe(b.json.choices[0].message.content);
    expect(a.json.choices[0].message.content).toBe(fakeAnswer(user('What is the capital of France and why?')));
    const answers = new Set<string>();
    for (let i = 0; i < 12; i++) answers.add(fakeAnswer(user(`question number ${i} about the sea`)));
    expect(answers.size).toBeGreaterThan(4);
  });

  it('varies the answer length between one and four sentences', () => {
    const lengths = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const text = fakeAnswer(user(`a question about rivers, take ${i}`));
      lengths.add(text.split(/(?<=\.)\s/).length);
    }
    expect([...lengths].sort()).toEqual([1, 2, 3, 4]);
  });

  it.each(Object.entries(SAMPLES) as Array<[FakeLang, string]>)('detects %s and answers in it', async (lang, text) => {
    expect(guessLanguage(text)).toBe(lang);
    const r = await chat(user(text));
    const content: string = r.json.choices[0].message.content;
    expect(FAKE_SENTENCES[lang].some((s) => content.includes(s))).toBe(true);
    expect(guessLanguage(content)).toBe(lang);
  });

  it('writes sentences that fastText lid.176 labels with their language', async () => {
    const langId = await loadLangId();
    for (const [lang, sentences] of Object.entries(FAKE_SENTENCES)) {
      for (const s of sentences) expect({ s, lang: langId.detect(s).lang }).toEqual({ s, lang });
    }
  });

  it('copies every ⟦P<n>⟧ placeholder of the last user message, in order', async () => {
    const text = 'Translate: the ⟦P1⟧ river flows past ⟦P2⟧ and ⟦P3⟧ into the ⟦P10⟧ sea.';
    const r = await chat([{ role: 'user', content: 'ignore ⟦P99⟧ here' }, { role: 'assistant', content: 'ok' }, { role: 'user', content: text }]);
    expect(r.json.choices[0].message.content.match(/⟦P\d+⟧/g)).toEqual(['⟦P1⟧', '⟦P2⟧', '⟦P3⟧', '⟦P10⟧']);
  });

  it('honours max_tokens with finish_reason length and counts words as tokens', async () => {
    const messages = user('Please describe the weather in the mountains during the winter.');
    const full = fakeTokens(fakeAnswer(messages));
    const r = await chat(messages, { max_tokens: 3 });
    expect(r.json.choices[0].finish_reason).toBe('length');
    expect(r.json.choices[0].message.content).toBe(full.slice(0, 3).join(' '));
    expect(r.json.usage.completion_tokens).toBe(3);
    const roomy = await chat(messages, { max_tokens: 10_000 });
    expect(roomy.json.choices[0].finish_reason).toBe('stop');
    expect(roomy.json.usage.completion_tokens).toBe(full.length);
    expect(roomy.json.usage.prompt_tokens).toBe(fakeTokens(messages[0].content).length);
  });

  it('counts CJK characters as tokens when truncating', async () => {
    const r = await chat(user(SAMPLES.zh), { max_completion_tokens: 5 });
    expect(r.json.choices[0].finish_reason).toBe('length');
    expect([...r.json.choices[0].message.content]).toHaveLength(5);
  });


  it('answers json_schema requests with every boolean false by default', async () => {
    const r = await chat(user('A plain text about jokes.'), rf);
    expect(JSON.parse(r.json.choices[0].message.content)).toEqual({ has_jokes: false, culture_related: false, topic: '', n: 0 });
  });

  it('sets booleans true on judgeTrue triggers found outside the system prompt', async () => {
    fake.setFaults({ judgeTrue: [{ trigger: 'jokes', property: 'has_jokes' }] });
    const sys = { role: 'system', content: 'Say whether the text has jokes.' };
    const hit = await chat([sys, { role: 'user', content: 'Here are two JOKES about cats.' }], rf);
    expect(JSON.parse(hit.json.choices[0].message.content)).toMatchObject({ has_jokes: true, culture_related: false });
    const miss = await chat([sys, { role: 'user', content: 'A text about rain.' }], rf);
    expect(JSON.parse(miss.json.choices[0].message.content)).toMatchObject({ has_jokes: false });
    fake.setFaults({ judgeTrue: ['festival'] });
    const all = await chat(user('The spring festival of the town.'), rf);
    expect(JSON.parse(all.json.choices[0].message.content)).toMatchObject({ has_jokes: true, culture_related: true });
  });

  it('answers a judge prompt with the same JSON whatever response_format it carries, and logs what was sent', async () => {
    fake.setFaults({ judgeTrue: [{ trigger: 'marketing', property: 'organizations_brands' }] });
    const messages = renderJudgeMessages(loadPack('en', 'filter', parseFilterPack), ['Write a marketing plan for my bakery.', 'Sure: start with a newsletter.']);
    const formats = [
      { type: 'json_schema', json_schema: { name: judgeJsonSchema.name, schema: judgeJsonSchema.schema, strict: true } },
      { type: 'json_object', schema: judgeJsonSchema.schema },
      { type: 'json_object' },
      undefined,
    ];
    const answers: string[] = [];
    for (const response_format of formats) answers.push((await chat(messages, { response_format })).json.choices[0].message.content);
    expect(JSON.parse(answers[0])).toMatchObject({ person_names: false, organizations_brands: true });
    expect(answers).toEqual(formats.map(() => answers[0]));
    expect(fake.log.map((e) => e.responseFormat)).toEqual(formats);
  });

  it('serves /v1/models and 404s unknown routes', async () => {
    const models = (await (await fetch(`${fake.url}/models`)).json()) as { data: Array<{ id: string }> };
    expect(models.data.map((m: { id: string }) => m.id)).toEqual(['fake-model', 'other-model']);
    const res = await fetch(`${fake.url.replace('/v1', '')}/chat/completions`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
  });

  it('logs each request with its hash, attempt, status and whether a key was sent', async () => {
    await chat(user('same'));
    await chat(user('same'));
    await fetch(`${fake.url}/models`);
    expect(fake.log.map((e) => [e.path, e.attempt, e.status, e.hadAuthorization])).toEqual([
      ['/v1/chat/completions', 0, 200, true],
      ['/v1/chat/completions', 1, 200, true],
      ['/v1/models', 0, 200, false],
    ]);
    expect(fake.log[0].hash).toMatch(/^[0-9a-f]{64}$/);
    expect(fake.log[0].hash).toBe(fake.log[1].hash);
    expect(fake.log[0].endedAt).toBeGreaterThanOrEqual(fake.log[0].startedAt);
  });

  it('survives many concurrent keep-alive requests', async () => {
    const rs = await Promise.all(Array.from({ length: 64 }, (_, i) => chat(user(`concurrent question ${i % 8}`))));
    expect(rs.every((r) => r.status === 200)).toBe(true);
    expect(fake.log).toHaveLength(64);
    const byText = new Map<string, string>();
    rs.forEach((r, i) => {
      const key = `concurrent question ${i % 8}`;
      expect(r.json.choices[0].message.content).toBe(byText.get(key) ?? r.json.choices[0].message.content);
      byText.set(key, r.json.choices[0].message.content);
    });
  });
});

describe('fake OpenAI server: fault knobs', () => {
  it('authFail answers 401 to chat and models', async () => {
    fake.setFaults({ authFail: true });
    expect((await chat(user('x'))).status).toBe(401);
    expect((await fetch(`${fake.url}/models`)).status).toBe(401);
  });

  it('outage by calls answers 503 for the next n requests, then recovers', async () => {
    fake.setFaults({ outage: { calls: 3 } });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await chat(user('q'))).status);
    expect(statuses).toEqual([503, 503, 503, 200, 200]);
  });

  it('outage by time answers 503 until the given epoch', async () => {
    fake.setFaults({ outage: { untilMs: Date.now() + 3_600_000 } });
    expect((await chat(user('q'))).status).toBe(503);
    fake.setFaults({ outage: { untilMs: Date.now() - 1 } });
    expect((await chat(user('q'))).status).toBe(200);
  });

  it('rateLimit every n with Retry-After headers', async () => {
    fake.setFaults({ rateLimit: { every: 2, retryAfterMs: 1500, retryAfterSeconds: 2 } });
    const rs = [];
    for (let i = 0; i < 4; i++) rs.push(await chat(user(`q${i}`)));
    expect(rs.map((r) => r.status)).toEqual([200, 429, 200, 429]);
    expect(rs[1].headers.get('retry-after-ms')).toBe('1500');
    expect(rs[1].headers.get('retry-after')).toBe('2');
  });

  it('rateLimit without every is a storm; quota answers insufficient_quota', async () => {
    fake.setFaults({ rateLimit: { retryAfterSeconds: 1 } });
    expect([(await chat(user('a'))).status, (await chat(user('b'))).status]).toEqual([429, 429]);
    fake.setFaults({ rateLimit: { quota: true } });
    const r = await chat(user('a'));
    expect(r.status).toBe(429);
    expect(r.json.error.code).toBe('insufficient_quota');
  });

  it('errorRate draws deterministically per (request, attempt)', async () => {
    const run = async () => {
      fake.reset();
      fake.setFaults({ errorRate: 0.5, errorStatus: 502 });
      const out: number[] = [];
      for (let i = 0; i < 20; i++) out.push((await chat(user(`item ${i % 5}`))).status);
      return out;
    };
    const first = await run();
    expect(await run()).toEqual(first);
    expect(first).toContain(502);
    expect(first).toContain(200);
    expect(first.every((s) => s === 200 || s === 502)).toBe(true);
  });

  it('malformedRate returns invalid JSON or a body without choices', async () => {
    fake.setFaults({ malformedRate: 1 });
    const kinds = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const r = await chat(user(`m${i}`));
      expect(r.status).toBe(200);
      kinds.add(r.json === undefined ? 'invalid_json' : r.json.choices === undefined ? 'no_choices' : 'ok');
    }
    expect([...kinds].sort()).toEqual(['invalid_json', 'no_choices']);
  });

  it('truncateAll cuts every answer with finish_reason length', async () => {
    fake.setFaults({ truncateAll: true });
    const messages = user('Tell me about the forest.');
    const r = await chat(messages);
    expect(r.json.choices[0].finish_reason).toBe('length');
    expect(fakeTokens(r.json.choices[0].message.content).length).toBe(Math.max(1, Math.floor(fakeTokens(fakeAnswer(messages)).length / 2)));
  });

  it('structuredOutput json_object+schema answers json_schema with llama-cpp-python 0.3.36 500 and takes json_object with a schema', async () => {
    fake.setFaults({ structuredOutput: 'json_object+schema' });
    const rejected = await chat(user('x'), rf);
    expect(rejected.status).toBe(500);
    expect(rejected.json.error).toMatchObject({ type: 'internal_server_error', code: null });
    expect(rejected.json.error.message).toContain("'loc': ('body', 'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema'");
    const taken = await chat(user('x'), { response_format: { type: 'json_object', schema } });
    expect(JSON.parse(taken.json.choices[0].message.content)).toEqual({ has_jokes: false, culture_related: false, topic: '', n: 0 });
    expect((await chat(user('x'))).status).toBe(200);
  });

  it('structuredOutput prompt-only answers 400 to any response_format', async () => {
    fake.setFaults({ structuredOutput: 'prompt-only' });
    expect((await chat(user('x'), rf)).status).toBe(400);
    const jsonObject = await chat(user('x'), { response_format: { type: 'json_object', schema } });
    expect([jsonObject.status, jsonObject.json.error.message]).toEqual([400, "Unsupported parameter: 'response_format'."]);
    expect((await chat(user('x'))).status).toBe(200);
    fake.setFaults({ structuredOutput: undefined });
    expect((await chat(user('x'), rf)).status).toBe(200);
  });

  it('wrongLanguage answers in the given language', async () => {
    fake.setFaults({ wrongLanguage: 'ru' });
    const r = await chat(user(SAMPLES.en));
    expect(guessLanguage(r.json.choices[0].message.content)).toBe('ru');
  });

  it('latency [min, max] delays the answer by a seeded amount in range', async () => {
    fake.setFaults({ latencyMs: [20, 40] });
    await chat(user('slow'));
    const e = fake.log[0];
    expect(e.endedAt! - e.startedAt).toBeGreaterThanOrEqual(15);
  });

  it('respond overrides the answer and sees hash and attempt', async () => {
    fake.setFaults({ respond: (req) => ({ content: `attempt ${req.attempt} of ${req.hash.slice(0, 6)}`, finishReason: 'length' }) });
    const r1 = await chat(user('x'));
    const r2 = await chat(user('x'));
    expect(r1.json.choices[0].message.content).toBe(`attempt 0 of ${fake.log[0].hash.slice(0, 6)}`);
    expect(r2.json.choices[0].message.content).toMatch(/^attempt 1 /);
    expect(r1.json.choices[0].finish_reason).toBe('length');
  });

  it('setFaults with undefined removes a knob; reset clears everything', async () => {
    fake.setFaults({ authFail: true, truncateAll: true });
    fake.setFaults({ authFail: undefined });
    const r = await chat(user('Tell me about the forest.'));
    expect([r.status, r.json.choices[0].finish_reason]).toEqual([200, 'length']);
    fake.reset();
    expect(fake.log).toHaveLength(0);
    expect((await chat(user('Tell me about the forest.'))).json.choices[0].finish_reason).toBe('stop');
  });

  it('strictModels answers 404 model_not_found', async () => {
    const strict = await startFakeOpenAi({ strictModels: true });
    try {
      const res = await fetch(`${strict.url}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'nope', messages: user('x') }),
      });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('model_not_found');
    } finally {
      await strict.stop();
    }
  });
});
