/**
 * The multi-criteria filter (paper §2.2.1, Figure 9): an LLM judges each criterion, and a chat
 * conversation is kept only when none applies. Rendering, structured-output schema, robust parsing, decision.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { ChatMessage } from '../messages';
import { drop, KEEP, type Verdict } from '../stats';

/** Criterion keys in Figure 9 order; the first hit names the drop reason. */
export const JUDGE_CRITERIA = [
  'person_names',
  'places',
  'culture_politics_history_religion',
  'literature_humor_slang',
  'food_clothing_housing',
  'organizations_brands',
] as const;

/** One Figure 9 criterion key. */
export type Criterion = (typeof JUDGE_CRITERIA)[number];

/** The judge's answer: whether each criterion applies to the conversation. */
export type JudgeVerdict = Record<Criterion, boolean>;

/** Schema of a filter prompt pack (src/prompts/<lang>.filter.yaml). */
export const filterPackSchema = z
  .object({
    version: z.string().min(1),
    lang: z.string().min(2),
    kind: z.literal('filter'),
    system: z.string().min(1),
    instructions: z.string().min(1),
    criteria: z.array(z.object({ key: z.enum(JUDGE_CRITERIA), title: z.string().min(1), explanation: z.string().min(1) })),
    answer_format: z.string().includes('{example}'),
    conversation_open: z.string().min(1),
    conversation_close: z.string().min(1),
    roles: z.object({ user: z.string().min(1), assistant: z.string().min(1) }),
  })
  .refine((p) => JUDGE_CRITERIA.every((k) => p.criteria.filter((c) => c.key === k).length === 1), {
    message: `criteria must list each of ${JUDGE_CRITERIA.join(', ')} exactly once`,
  });

/** A validated filter prompt pack. */
export type FilterPack = z.infer<typeof filterPackSchema>;

/** Parses and validates a filter pack's YAML text; throws on a bad pack (a configuration fault). */
export function parseFilterPack(yamlText: string): FilterPack {
  return filterPackSchema.parse(parseYaml(yamlText));
}

/** JSON schema for `response_format`: one required boolean per criterion. */
export const judgeJsonSchema: { name: string; schema: Record<string, unknown> } = {
  name: 'agnostic_filter_verdict',
  schema: {
    type: 'object',
    properties: Object.fromEntries(JUDGE_CRITERIA.map((k) => [k, { type: 'boolean' }])),
    required: [...JUDGE_CRITERIA],
    additionalProperties: false,
  },
};

/** The judge prompt for one conversation (turns alternate user, assistant). */
export function renderJudgeMessages(pack: FilterPack, turns: string[]): ChatMessage[] {
  const criteria = JUDGE_CRITERIA.map((key, i) => {
    const c = pack.criteria.find((x) => x.key === key)!;
    return `${i + 1}. ${key}: ${c.title}. ${c.explanation.trim()}`;
  }).join('\n');
  const example = JSON.stringify(Object.fromEntries(JUDGE_CRITERIA.map((k) => [k, false])));
  const conversation = turns
    .map((t, i) => `${i % 2 === 0 ? pack.roles.user : pack.roles.assistant}: ${t}`)
    .join('\n\n');
  const user = [
    pack.instructions.trim(),
    criteria,
    pack.answer_format.split('{example}').join(example).trim(),
    `${pack.conversation_open}\n${conversation}\n${pack.conversation_close}`,
  ].join('\n\n');
  return [
    { role: 'system', content: pack.system.trim() },
    { role: 'user', content: user },
  ];
}

/** Outcome of reading a judge reply. */
export type ParsedVerdict = { ok: true; verdict: JudgeVerdict } | { ok: false; reason: string };

function asBoolean(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number' && (v === 0 || v === 1)) return v === 1;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'true' || s === 'yes' || s === '1') return true;
    if (s === 'false' || s === 'no' || s === '0') return false;
  }
  return undefined;
}

/** The first balanced {...} in a text, ignoring braces inside JSON strings. */
function firstObject(text: string): string | undefined {
  const start = text.indexOf('{');
  if (start === -1) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return text.slice(start, i + 1);
  }
  return undefined;
}

/** Reads `key: value` pairs when the reply is near-JSON (single quotes, trailing commas, bare words). */
function looseFields(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of JUDGE_CRITERIA) {
    const m = new RegExp(`["']?${key}["']?\\s*[:=]\\s*["']?(true|false|yes|no|1|0)\\b`, 'i').exec(text);
    if (m) out[key] = m[1];
  }
  return out;
}

/** Reads a judge reply: JSON, possibly in a code fence or with prose around it; values may be booleans, "true"/"false", yes/no. */
export function parseVerdict(text: string): ParsedVerdict {
  const body = firstObject(text.replace(/```(?:json)?/gi, ''));
  let fields: Record<string, unknown> | undefined;
  if (body !== undefined) {
    try {
      const parsed: unknown = JSON.parse(body);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) fields = parsed as Record<string, unknown>;
    } catch {
      fields = looseFields(body);
    }
  } else {
    fields = looseFields(text);
  }
  if (fields === undefined || Object.keys(fields).length === 0) return { ok: false, reason: 'judge_no_json' };
  const verdict = {} as JudgeVerdict;
  for (const key of JUDGE_CRITERIA) {
    if (!(key in fields)) return { ok: false, reason: `judge_missing_criterion:${key}` };
    const b = asBoolean(fields[key]);
    if (b === undefined) return { ok: false, reason: `judge_bad_value:${key}` };
    verdict[key] = b;
  }
  return { ok: true, verdict };
}

/** The criteria a verdict marks as present, in Figure 9 order. */
export function criteriaHit(verdict: JudgeVerdict): Criterion[] {
  return JUDGE_CRITERIA.filter((k) => verdict[k]);
}

/** Keep only when no criterion applies; otherwise drop as `agnostic_culture_specific:<first criterion hit>`. */
export function judgeDecision(verdict: JudgeVerdict): Verdict {
  const hits = criteriaHit(verdict);
  return hits.length === 0 ? KEEP : drop(`agnostic_culture_specific:${hits[0]}`);
}

/** Drop reason once a conversation's verdict stayed unparsable after the one retry. */
export const UNJUDGED = 'agnostic_unjudged';
