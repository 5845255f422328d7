/**
 * A fake OpenAI-compatible server for tests: real HTTP on 127.0.0.1, deterministic answers
 * derived from the request, and fault knobs (latency, errors, 429 storms, outages, truncation,
 * malformed bodies, wrong language). Every request is logged so tests can count calls and prove
 * that none started while a run was paused.
 *
 * Answers: the language of the system prompt (else the last user message) is guessed (CJK → zh,
 * Cyrillic → ru, else stop-word counts for en/fr/es) and 1–4 sentences of that language are picked
 * by the hash of the messages, as many as fit max_tokens, none the prompt already holds while the
 * bank lasts; a text to translate gets as many as its length asks, its numbers kept. Every
 * `⟦P<n>⟧` placeholder of the last user message is copied into the answer, in order. Tokens are
 * counted crudely: one per whitespace-separated word, one per CJK character.
 *
 * Structured output: when `response_format` carries a schema (json_schema, or json_object with `schema`), or
 * else the last user message shows a JSON object of booleans as the answer's example (the judge's prompt does),
 * the answer is a JSON object of that schema whose booleans are false, except those switched on by
 * `faults.judgeTrue` (see FakeFaults). A judge prompt so gets the same answer whether or not response_format
 * was sent, which keeps verdicts equal under every `structuredOutput` mode.
 */
import { createHash } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { rngFor } from '../../src/core/random';
import { mask, withoutPlaceholders } from '../../src/core/agnostic/mask';
import { NUMBER, weightedLength } from '../../src/core/agnostic/translate';
import type { StructuredOutputRung } from '../../src/llm/openai-backend';

/** Languages the fake can answer in. */
export type FakeLang = 'en' | 'zh' | 'ru' | 'fr' | 'es';

/** One trigger for structured answers: a word that, when present, sets a boolean property true. */
export type JudgeTrigger = string | { trigger: string; property: string };

/** A request's `response_format`: json_schema (OpenAI), or json_object with a `schema` beside it (llama-cpp-python). */
export interface FakeResponseFormat {
  type: string;
  json_schema?: { name?: string; schema?: Record<string, unknown>; strict?: boolean };
  schema?: Record<string, unknown>;
}

/** The parsed chat request, as the `respond` override sees it. */
export interface FakeChatRequest {
  model: string;
  messages: Array<{ role: string; content: string }>;
  maxTokens?: number;
  responseFormat?: FakeResponseFormat;
  /** sha256 hex of the messages (the answer's seed). */
  hash: string;
  /** 0 for the first request with this hash since the last reset, then 1, 2, … */
  attempt: number;
}

/** Fault knobs; every random choice is seeded by (messages hash, attempt). */
export interface FakeFaults {
  /** Delay before answering: fixed ms, or [min, max] drawn per request. */
  latencyMs?: number | [number, number];
  /** Fraction of requests answered with `errorStatus` (default 500). */
  errorRate?: number;
  errorStatus?: number;
  /** 429 storm: the every-th request (1-based count since setFaults; every request when omitted) gets 429. */
  rateLimit?: { every?: number; retryAfterMs?: number; retryAfterSeconds?: number; quota?: boolean };
  /** 503 until an epoch time, or for the next n requests. */
  outage?: { untilMs: number } | { calls: number };
  /** Every request gets 401. */
  authFail?: boolean;
  /** Every answer is cut (to half its tokens, or max_tokens if smaller) with finish_reason `length`. */
  truncateAll?: boolean;
  /** Fraction of 200 answers with an invalid JSON body or a body without choices. */
  malformedRate?: number;
  /** Answer in this language whatever the request's language. */
  wrongLanguage?: FakeLang;
  /**
   * Structured answers: a string trigger found (case-insensitive) in the non-system messages
   * sets every boolean property true; `{ trigger, property }` sets only that property. System
   * messages are not searched because judge instructions there name the very words.
   */
  judgeTrue?: JudgeTrigger[];
  /**
   * The richest structured output the fake accepts, named by the backend's ladder rung it leaves to work:
   * `json_schema` (default; OpenAI, vLLM, llama-server accept every response_format); `json_object+schema`
   * (llama-cpp-python 0.3.36: a json_schema gets its 500 "Input should be 'text' or 'json_object'");
   * `prompt-only` (any response_format gets 400, as from servers without structured output).
   */
  structuredOutput?: StructuredOutputRung;
  /** Leave `usage` out of answers (some servers do). */
  omitUsage?: boolean;
  /** Override the answer text (placeholders and truncation rules then do not apply). */
  respond?: (req: FakeChatRequest) => string | { content: string; finishReason?: string };
}

/** One logged request. */
export interface FakeLogEntry {
  /** Epoch ms when the request arrived. */
  startedAt: number;
  /** Epoch ms when the answer was sent or the client went away. */
  endedAt?: number;
  method: string;
  path: string;
  /** sha256 hex of the messages ('' for non-chat requests). */
  hash: string;
  attempt: number;
  model?: string;
  /** HTTP status sent; undefined when the client closed first. */
  status?: number;
  /** What was done: ok, truncated, error, rate_limit, quota, outage, auth, malformed, … */
  outcome?: string;
  /** True when the client closed the connection before the answer was sent. */
  clientClosed: boolean;
  /** Whether an Authorization header was present (its value is never kept). */
  hadAuthorization: boolean;
  /** The `response_format` the chat request sent, if any. */
  responseFormat?: FakeResponseFormat;
}

/** Options fixed at start. */
export interface FakeOpenAiOptions {
  /** Served by /v1/models; default ['fake-model']. */
  models?: string[];
  /** Answer 404 model_not_found for models not in `models` (default: accept any model). */
  strictModels?: boolean;
  faults?: FakeFaults;
}

/** A running fake server. */
export interface FakeOpenAi {
  /** Base URL including /v1, e.g. `http://127.0.0.1:40123/v1`. */
  url: string;
  /** Requests in arrival order (the same array for the server's lifetime). */
  log: FakeLogEntry[];
  /** Merges knobs into the current faults (undefined values remove a knob); resets the fault counters. */
  setFaults(partial: Partial<FakeFaults>): void;
  /** Clears faults, log and counters. */
  reset(): void;
  /** Closes every connection and the listener. */
  stop(): Promise<void>;
}

// Word banks written for these tests: plain, everyday sentences so fastText recognises the language.
/** The sentences answers are built from, per language. */
export const FAKE_SENTENCES: Readonly<Record<FakeLang, readonly string[]>> = {
  en: [
    'The old library in the town centre opens early on weekdays and closes late on Fridays.',
    'Many farmers in the valley grow apples, pears and a little wheat for their own bread.',
    'She walked along the river every morning because the air there was fresh and quiet.',
    'The museum keeps a small collection of maps that show how the coast has changed.',
    'Our neighbours invited us for dinner and we talked about the history of the village.',
    'The train was late again, so the children played cards in the waiting room.',
    'Scientists think that the lake was formed by a glacier thousands of years ago.',
    'He bought fresh bread at the market and shared it with his friends in the park.',
    'The bakery on the corner sells warm rolls before most people wake up.',
    'In winter the small harbour is calm and the fishing boats stay tied to the pier.',
    'Her grandmother taught her to knit scarves during the long autumn evenings.',
    'The bridge over the canal was painted green after the storm had damaged it.',
    'Students often meet in the garden behind the school to read and talk.',
    'A narrow path climbs through the pine forest to a quiet wooden chapel.',
    'The market square fills with music and flowers at the start of every summer.',
    'My brother repairs old bicycles in his garage and gives them to his friends.',
  ],
  fr: [
    'La vieille bibliothèque du centre-ville ouvre tôt en semaine et ferme tard le vendredi.',
    'Les agriculteurs de la vallée cultivent des pommes, des poires et un peu de blé.',
    'Elle se promenait le long de la rivière chaque matin parce que le calme lui plaisait.',
    'Le musée conserve une petite collection de cartes qui montrent comment la côte a changé.',
    'Nos voisins nous ont invités à dîner et nous avons parlé de l’histoire du village.',
    'Le train avait encore du retard, alors les enfants ont joué aux cartes dans la salle.',
    'Les chercheurs pensent que le lac a été formé par un glacier il y a des milliers d’années.',
    'Il a acheté du pain frais au marché et il l’a partagé avec ses amis dans le parc.',
    'La boulangerie du coin vend des petits pains chauds avant que les gens se réveillent.',
    'En hiver, le petit port est calme et les bateaux de pêche restent attachés au quai.',
    'Sa grand-mère lui a appris à tricoter des écharpes pendant les longues soirées d’automne.',
    'Le pont au-dessus du canal a été peint en vert après la tempête qui l’avait abîmé.',
    'Les élèves se retrouvent souvent dans le jardin derrière l’école pour lire et discuter.',
    'Un sentier étroit monte à travers la forêt de pins jusqu’à une petite chapelle en bois.',
    'La place du marché se remplit de musique et de fleurs au début de chaque été.',
    'Mon frère répare de vieux vélos dans son garage et il les donne à ses amis.',
  ],
  es: [
    'La antigua biblioteca del centro abre temprano entre semana y cierra tarde los viernes.',
    'Los agricultores del valle cultivan manzanas, peras y un poco de trigo para su pan.',
    'Ella caminaba junto al río todas las mañanas porque allí el aire era fresco y tranquilo.',
    'El museo guarda una pequeña colección de mapas que muestran cómo ha cambiado la costa.',
    'Nuestros vecinos nos invitaron a cenar y hablamos de la historia del pueblo.',
    'El tren llegó tarde otra vez, así que los niños jugaron a las cartas en la sala de espera.',
    'Los científicos creen que el lago se formó por un glaciar hace miles de años.',
    'Compró pan fresco en el mercado y lo compartió con sus amigos en el parque.',
    'La panadería de la esquina vende panecillos calientes antes de que la gente se despierte.',
    'En invierno el pequeño puerto está tranquilo y los barcos de pesca se quedan amarrados al muelle.',
    'Su abuela le enseñó a tejer bufandas durante las largas tardes de otoño.',
    'El puente sobre el canal fue pintado de verde después de la tormenta que lo había dañado.',
    'Los estudiantes se reúnen a menudo en el jardín detrás de la escuela para leer y conversar.',
    'Un sendero estrecho sube por el bosque de pinos hasta una pequeña capilla de madera.',
    'La plaza del mercado se llena de música y de flores al comienzo de cada verano.',
    'Mi hermano arregla bicicletas viejas en su garaje y se las regala a sus amigos.',
  ],
  ru: [
    'Старая библиотека в центре города открывается рано по будням и закрывается поздно в пятницу.',
    'Многие фермеры в долине выращивают яблоки, груши и немного пшеницы для своего хлеба.',
    'Каждое утро она гуляла вдоль реки, потому что там было тихо и свежо.',
    'В музее хранится небольшая коллекция карт, которые показывают, как менялся берег.',
    'Соседи пригласили нас на ужин, и мы говорили об истории нашей деревни.',
    'Поезд снова опоздал, поэтому дети играли в карты в зале ожидания.',
    'Учёные считают, что озеро образовалось из ледника много тысяч лет назад.',
    'Он купил свежий хлеб на рынке и поделился им с друзьями в парке.',
    'Пекарня на углу продаёт тёплые булочки ещё до того, как люди проснутся.',
    'Зимой в маленькой гавани спокойно, и рыбацкие лодки стоят у причала.',
    'Бабушка научила её вязать шарфы долгими осенними вечерами.',
    'Мост через канал покрасили в зелёный цвет после сильной бури.',
    'Студенты часто встречаются в саду за школой, чтобы читать и разговаривать.',
    'Узкая тропа поднимается через сосновый лес к тихой деревянной часовне.',
    'В начале каждого лета рыночная площадь наполняется музыкой и цветами.',
    'Мой брат чинит старые велосипеды в гараже и дарит их своим друзьям.',
  ],
  zh: [
    '市中心的老图书馆在工作日很早开门，星期五很晚才关门。',
    '山谷里的许多农民种植苹果、梨和少量小麦，用来做自己的面包。',
    '她每天早上都沿着河边散步，因为那里的空气清新又安静。',
    '博物馆收藏了一小批地图，展示了海岸线多年来的变化。',
    '邻居请我们吃晚饭，我们一起聊了村子的历史。',
    '火车又晚点了，孩子们就在候车室里玩起了纸牌。',
    '科学家认为这个湖是几千年前由冰川形成的。',
    '他在市场上买了新鲜的面包，然后在公园里和朋友们一起分享。',
    '街角的面包店在大多数人醒来之前就开始卖热乎乎的面包卷。',
    '冬天的小港口很平静，渔船都系在码头边。',
    '奶奶在漫长的秋天晚上教她怎么织围巾，她们一边织一边聊天。',
    '暴风雨过后，运河上的那座桥被漆成了绿色。',
    '学生们常常在学校后面的花园里见面，读书聊天。',
    '一条窄窄的小路穿过松树林，通向一座安静的木头小教堂。',
    '每年夏天开始的时候，集市广场上到处是音乐和鲜花。',
    '我哥哥在车库里修理旧自行车，然后送给他的朋友们。',
  ],
};

const STOP_WORDS: Record<'en' | 'fr' | 'es', Set<string>> = {
  en: new Set(['the', 'and', 'of', 'to', 'is', 'in', 'that', 'it', 'with', 'for', 'this', 'was', 'are', 'you', 'what', 'how']),
  fr: new Set(['le', 'la', 'les', 'et', 'des', 'du', 'est', 'une', 'un', 'que', 'qui', 'dans', 'pour', 'pas', 'sur', 'au', 'avec']),
  es: new Set(['el', 'los', 'las', 'y', 'del', 'es', 'una', 'que', 'en', 'por', 'para', 'con', 'se', 'su', 'como', 'pero', 'lo']),
};

/** Crude language guess: CJK → zh, Cyrillic → ru, else the most stop words among en/fr/es (ties → en). */
export function guessLanguage(text: string): FakeLang {
  if (/[\u3400-\u9fff]/.test(text)) return 'zh';
  if (/[\u0400-\u04ff]/.test(text)) return 'ru';
  const words = text.toLowerCase().match(/[\p{L}']+/gu) ?? [];
  let best: FakeLang = 'en';
  let bestCount = 0;
  for (const lang of ['en', 'fr', 'es'] as const) {
    const n = words.filter((w) => STOP_WORDS[lang].has(w)).length;
    if (n > bestCount) {
      best = lang;
      bestCount = n;
    }
  }
  return best;
}

/** Splits text into crude tokens: CJK characters one each, other runs by whitespace. */
export function fakeTokens(text: string): string[] {
  return text.match(/[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]|[^\s\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+/g) ?? [];
}

function joinTokens(tokens: string[], lang: FakeLang): string {
  return lang === 'zh' ? tokens.join('') : tokens.join(' ');
}

/**
 * The language a real model would answer in: that of the system prompt when there is one (our prompt packs
 * are written natively in the target language, while the text to translate may be English), else the last user turn.
 */
export function answerLanguage(messages: Array<{ role: string; content: string }>): FakeLang {
  const system = messages.find((m) => m.role === 'system')?.content;
  if (system) return guessLanguage(system);
  return guessLanguage([...messages].reverse().find((m) => m.role === 'user')?.content ?? '');
}

/** What shapes a fake answer besides the messages. */
export interface FakeAnswerOptions {
  /** Answer in this language (default: answerLanguage of the messages). */
  lang?: FakeLang;
  /** The request's max_tokens: an answer that is not a translation is written to fit it, as a model told its budget does. */
  maxTokens?: number;
}

/**
 * The answer the fake gives to these messages without faults (exported so tests can predict it). Like a good model,
 * it does not repeat what the prompt already holds: bank sentences found in any message are taken last, so an
 * answer does not restate its question and a follow-up question does not ask an earlier one again.
 */
export function fakeAnswer(messages: Array<{ role: string; content: string }>, options: FakeAnswerOptions = {}): string {
  const hash = messagesHash(messages);
  const lastUser = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const language = options.lang ?? answerLanguage(messages);
  const rng = rngFor('fake-openai', hash, 'answer');
  const bank = FAKE_SENTENCES[language];
  // A text to translate (the packs put it between a <text> line and a </text> line, after an instruction that names
  // the tags) gets a reply as long as it, keeping its numbers, as a translator's would: the translation gates drop a
  // summary and a changed number.
  const source = /^<text>\n([\s\S]*)\n<\/text>$/m.exec(lastUser)?.[1];
  // What a translator copies: the placeholders of a masked text, or the code, formulas and URLs of one sent as it is.
  const spans = source === undefined ? undefined : mask(source);
  const prose = spans === undefined ? undefined : withoutPlaceholders(spans.masked);
  const perSentence = bank.reduce((n, s) => n + weightedLength(s), 0) / bank.length;
  let count = prose === undefined ? 1 + Math.floor(rng() * 4) : Math.max(1, Math.round(weightedLength(prose.trim()) / perSentence));
  const start = Math.floor(rng() * bank.length);
  const prompt = messages.map((m) => m.content).join('\n');
  const rotation = Array.from({ length: bank.length }, (_, i) => bank[(start + i) % bank.length]!);
  const order = [...rotation.filter((s) => !prompt.includes(s)), ...rotation.filter((s) => prompt.includes(s))];
  const pick = (n: number) => Array.from({ length: n }, (_, i) => order[i % order.length]!);
  if (prose === undefined && options.maxTokens !== undefined) {
    while (count > 1 && fakeTokens(pick(count).join(' ')).length > options.maxTokens) count--;
  }
  const sentences = pick(count);
  // Numbers as the translation gate reads them, set apart so that no two read as one.
  const numbers = prose?.match(NUMBER) ?? [];
  if (numbers.length > 0) sentences[count - 1] = `${sentences[count - 1]} ${numbers.join('; ')}`;
  const placeholders = spans?.slots ?? lastUser.match(/⟦P\d+⟧/g) ?? [];
  // Placeholder i goes after sentence floor(i*n/m): non-decreasing, so their order is kept.
  const withMarks = sentences.map((s) => [s]);
  placeholders.forEach((p, i) => withMarks[Math.floor((i * count) / placeholders.length)]!.push(p));
  return withMarks.map((parts) => parts.join(' ')).join(language === 'zh' ? '' : ' ');
}

/** sha256 hex of the messages, the seed of every answer and fault draw. */
export function messagesHash(messages: Array<{ role: string; content: string }>): string {
  return createHash('sha256')
    .update(JSON.stringify(messages.map((m) => [m.role, m.content])))
    .digest('hex');
}

/** A flat JSON object whose values are all booleans, as a prompt shows the answer it wants. */
const BOOLEAN_EXAMPLE = /\{\s*"[^"\\]+"\s*:\s*(?:true|false)\s*(?:,\s*"[^"\\]+"\s*:\s*(?:true|false)\s*)*\}/;

/** The schema the answer must follow: the one response_format sent, else one boolean per key of the prompt's example. */
function answerSchema(rf: FakeResponseFormat | undefined, messages: FakeChatRequest['messages']): Record<string, unknown> | undefined {
  const sent = rf?.json_schema?.schema ?? rf?.schema;
  if (sent) return sent;
  const lastUser = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const example = BOOLEAN_EXAMPLE.exec(lastUser)?.[0];
  if (example === undefined) return undefined;
  return { type: 'object', properties: Object.fromEntries(Object.keys(JSON.parse(example) as object).map((k) => [k, { type: 'boolean' }])) };
}

function structuredAnswer(schema: Record<string, unknown>, messages: FakeChatRequest['messages'], triggers: JudgeTrigger[]): string {
  const text = messages
    .filter((m) => m.role !== 'system')
    .map((m) => m.content)
    .join('\n')
    .toLowerCase();
  const props = (schema.properties ?? {}) as Record<string, { type?: unknown; enum?: unknown[] }>;
  const out: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(props)) {
    const type = Array.isArray(prop?.type) ? prop.type[0] : prop?.type;
    if (type === 'boolean') {
      out[name] = triggers.some((t) =>
        typeof t === 'string' ? text.includes(t.toLowerCase()) : t.property === name && text.includes(t.trigger.toLowerCase()),
      );
    } else if (Array.isArray(prop?.enum) && prop.enum.length > 0) out[name] = prop.enum[0];
    else if (type === 'number' || type === 'integer') out[name] = 0;
    else if (type === 'array') out[name] = [];
    else if (type === 'object') out[name] = {};
    else out[name] = '';
  }
  return JSON.stringify(out);
}

/** The message llama-cpp-python 0.3.36's server sends, with status 500, for a response_format type it lacks (as captured from it). */
export function llamaCppPythonLiteralError(type: string): string {
  return (
    `1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), 'msg': "Input should be 'text' or 'json_object'", ` +
    `'input': '${type}', 'ctx': {'expected': "'text' or 'json_object'"}}\n\n  File "llama_cpp/server/app.py", line 376, in create_chat_completion\n    POST /v1/chat/completions`
  );
}

/** Starts the fake on a random free loopback port. */
export async function startFakeOpenAi(options: FakeOpenAiOptions = {}): Promise<FakeOpenAi> {
  const models = options.models ?? ['fake-model'];
  let faults: FakeFaults = { ...options.faults };
  const log: FakeLogEntry[] = [];
  const attempts = new Map<string, number>();
  let faultCount = 0; // chat requests since the last setFaults/reset, for `every` and `outage.calls`
  const sockets = new Set<Socket>();

  function send(res: ServerResponse, entry: FakeLogEntry, status: number, body: string, outcome: string, headers: Record<string, string> = {}) {
    if (entry.clientClosed) return;
    entry.status = status;
    entry.outcome = outcome;
    entry.endedAt = Date.now();
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body);
  }

  function apiError(message: string, type: string, code: string | null): string {
    return JSON.stringify({ error: { message, type, param: null, code } });
  }

  async function handleChat(res: ServerResponse, entry: FakeLogEntry, raw: string) {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return send(res, entry, 400, apiError('request body is not valid JSON', 'invalid_request_error', null), 'bad_request');
    }
    const messages = Array.isArray(body.messages) ? (body.messages as FakeChatRequest['messages']) : [];
    const hash = messagesHash(messages);
    const attempt = attempts.get(hash) ?? 0;
    attempts.set(hash, attempt + 1);
    const count = ++faultCount;
    Object.assign(entry, { hash, attempt, model: String(body.model ?? '') });
    const rng = (what: string) => rngFor('fake-openai', hash, attempt, what)();
    const f = faults;

    if (f.latencyMs !== undefined) {
      const ms = Array.isArray(f.latencyMs) ? f.latencyMs[0] + Math.floor(rng('latency') * (f.latencyMs[1] - f.latencyMs[0] + 1)) : f.latencyMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        res.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (entry.clientClosed) return;
    }
    if (f.authFail) {
      return send(res, entry, 401, apiError('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'), 'auth');
    }
    if (f.outage && ('untilMs' in f.outage ? Date.now() < f.outage.untilMs : count <= f.outage.calls)) {
      return send(res, entry, 503, apiError('The server is temporarily unavailable.', 'server_error', null), 'outage');
    }
    if (f.rateLimit && (f.rateLimit.every === undefined || count % f.rateLimit.every === 0)) {
      if (f.rateLimit.quota) {
        return send(res, entry, 429, apiError('You have run out of credit for this account.', 'insufficient_quota', 'insufficient_quota'), 'quota');
      }
      const headers: Record<string, string> = {};
      if (f.rateLimit.retryAfterMs !== undefined) headers['retry-after-ms'] = String(f.rateLimit.retryAfterMs);
      if (f.rateLimit.retryAfterSeconds !== undefined) headers['retry-after'] = String(f.rateLimit.retryAfterSeconds);
      return send(res, entry, 429, apiError('Rate limit reached, slow down.', 'requests', 'rate_limit_exceeded'), 'rate_limit', headers);
    }
    if (f.errorRate && rng('error') < f.errorRate) {
      const status = f.errorStatus ?? 500;
      return send(res, entry, status, apiError(`Injected error ${status}.`, 'server_error', null), 'error');
    }
    if (options.strictModels && !models.includes(String(body.model))) {
      return send(res, entry, 404, apiError(`The model '${String(body.model)}' does not exist.`, 'invalid_request_error', 'model_not_found'), 'not_found');
    }
    const responseFormat = body.response_format as FakeResponseFormat | undefined;
    entry.responseFormat = responseFormat;
    if (responseFormat && f.structuredOutput === 'prompt-only') {
      return send(res, entry, 400, apiError("Unsupported parameter: 'response_format'.", 'invalid_request_error', 'unsupported_parameter'), 'bad_request');
    }
    if (responseFormat && f.structuredOutput === 'json_object+schema' && responseFormat.type !== 'text' && responseFormat.type !== 'json_object') {
      return send(res, entry, 500, apiError(llamaCppPythonLiteralError(responseFormat.type), 'internal_server_error', null), 'error');
    }
    if (f.malformedRate && rng('malformed') < f.malformedRate) {
      const noChoices = rng('malformed-kind') < 0.5;
      const bodyText = noChoices ? JSON.stringify({ id: `chatcmpl-${hash.slice(0, 12)}`, object: 'chat.completion', model: body.model }) : '{"id":"chatcmpl-broken","choices":[{"index":0,';
      return send(res, entry, 200, bodyText, 'malformed');
    }

    const maxTokensRaw = body.max_tokens ?? body.max_completion_tokens;
    const maxTokens = typeof maxTokensRaw === 'number' ? maxTokensRaw : undefined;
    const chatReq: FakeChatRequest = { model: String(body.model ?? ''), messages, maxTokens, responseFormat, hash, attempt };
    let content: string;
    let finishReason = 'stop';
    const lang = f.wrongLanguage ?? answerLanguage(messages);
    if (f.respond) {
      const r = f.respond(chatReq);
      content = typeof r === 'string' ? r : r.content;
      if (typeof r !== 'string' && r.finishReason) finishReason = r.finishReason;
    } else {
      const schema = answerSchema(responseFormat, messages);
      content = schema ? structuredAnswer(schema, messages, f.judgeTrue ?? []) : fakeAnswer(messages, { lang, maxTokens });
      const tokens = fakeTokens(content);
      let limit = maxTokens ?? Infinity;
      if (f.truncateAll) limit = Math.min(limit, Math.max(1, Math.floor(tokens.length / 2)));
      if (tokens.length > limit) {
        content = joinTokens(tokens.slice(0, limit), lang);
        finishReason = 'length';
      }
    }
    const promptTokens = messages.reduce((n, m) => n + fakeTokens(m.content).length, 0);
    const completionTokens = fakeTokens(content).length;
    const answer: Record<string, unknown> = {
      id: `chatcmpl-${hash.slice(0, 24)}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: chatReq.model,
      system_fingerprint: 'fake-openai',
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finishReason, logprobs: null }],
    };
    if (!f.omitUsage) {
      answer.usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
    }
    send(res, entry, 200, JSON.stringify(answer), finishReason === 'length' ? 'truncated' : 'ok');
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const entry: FakeLogEntry = {
      startedAt: Date.now(),
      method: req.method ?? 'GET',
      path: url.pathname,
      hash: '',
      attempt: 0,
      clientClosed: false,
      hadAuthorization: req.headers.authorization !== undefined,
    };
    log.push(entry);
    // 'close' before our answer went out means the client aborted (or timed out).
    res.on('close', () => {
      if (entry.status === undefined) {
        entry.clientClosed = true;
        entry.endedAt = Date.now();
      }
    });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      if (req.method === 'POST' && url.pathname === '/v1/chat/completions') {
        handleChat(res, entry, raw).catch((err: unknown) => {
          send(res, entry, 500, apiError(`fake server bug: ${String(err)}`, 'server_error', null), 'bug');
        });
      } else if (req.method === 'GET' && url.pathname === '/v1/models') {
        if (faults.authFail) return send(res, entry, 401, apiError('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'), 'auth');
        send(res, entry, 200, JSON.stringify({ object: 'list', data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'fake-openai' })) }), 'ok');
      } else {
        send(res, entry, 404, apiError(`No route for ${req.method} ${url.pathname}.`, 'invalid_request_error', null), 'no_route');
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    log,
    setFaults(partial) {
      const next: FakeFaults = { ...faults, ...partial };
      for (const k of Object.keys(next) as Array<keyof FakeFaults>) if (next[k] === undefined) delete next[k];
      faults = next;
      faultCount = 0;
    },
    reset() {
      faults = {};
      log.length = 0;
      attempts.clear();
      faultCount = 0;
    },
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
