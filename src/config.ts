/**
 * The one configuration schema: defines, defaults and validates everything.
 * Nothing else reads process.env. The resolved config rides in workflow inputs, so it holds no secrets:
 * those come from the worker's environment through `readWorkerSecrets`.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PermanentError } from './core/errors';
import { storageConfigSchema } from './storage';
import { agnosticOptionsSchema } from './core/agnostic/sample';
import { prefilterOptionsSchema } from './core/agnostic/prefilter';
import { dialogueOptionsSchema } from './core/dialogue/options';
import { qualityOptionsSchema } from './core/export/quality';
import { knowledgeOptionsSchema } from './core/text/pipeline';
import { DEFAULT_PYPI_MODEL } from './llm/model-acquire';

/** Per-language facts: adding a language is an entry here (or in the user's YAML) plus src/prompts/<lang>.* packs. */
const languageSchema = z.object({
  /** Label lid.176 emits for this language (it emits `zh`, not `zho_Hans`). */
  fasttextLabel: z.string().min(1),
  /** Script normalisation applied to extracted text and LLM outputs. */
  scriptConversion: z.enum(['none', 't2s']).default('none'),
  /** Template names (lower-case, without namespace) that mark disambiguation pages. */
  disambiguationTemplates: z.array(z.string()).default([]),
  /** Wikipedia dump: local path, s3://bucket/key, or https URL; optional multistream index beside it. */
  dump: z.string().optional(),
  dumpIndex: z.string().optional(),
  /** Language-specific chat dialogues to produce (Table 2). */
  chatSpecific: z.number().int().nonnegative(),
});

export type LanguageConfig = z.infer<typeof languageSchema>;

/** The five languages of the paper with Table 2's language-specific volumes. */
export const DEFAULT_LANGUAGES: Record<string, z.input<typeof languageSchema>> = {
  en: { fasttextLabel: 'en', chatSpecific: 10_000, disambiguationTemplates: ['disambiguation', 'disambig', 'dab', 'hndis', 'geodis', 'set index article'] },
  zh: { fasttextLabel: 'zh', scriptConversion: 't2s', chatSpecific: 36_000, disambiguationTemplates: ['disambig', '消歧义', '消歧義', 'dab'] },
  ru: { fasttextLabel: 'ru', chatSpecific: 37_000, disambiguationTemplates: ['неоднозначность', 'многозначность', 'disambig'] },
  fr: { fasttextLabel: 'fr', chatSpecific: 30_000, disambiguationTemplates: ['homonymie', 'disambig', 'patronymie'] },
  es: { fasttextLabel: 'es', chatSpecific: 34_000, disambiguationTemplates: ['desambiguación', 'desambiguacion', 'disambig'] },
};

const temporalSchema = z.object({
  address: z.string().default('127.0.0.1:7233'),
  namespace: z.string().default('default'),
  /** Web UI base URL, printed with every run. */
  uiUrl: z.string().default('http://127.0.0.1:8233'),
  /** Task queues: LLM calls are rate-limited fleet-wide; CPU/IO work is not. */
  llmTaskQueue: z.string().default('ultralink-llm'),
  workTaskQueue: z.string().default('ultralink-work'),
  /** TLS for a remote cluster (Temporal Cloud / mTLS): paths, never inline keys. */
  tls: z
    .object({ serverName: z.string().optional(), caPath: z.string().optional(), certPath: z.string().optional(), keyPath: z.string().optional() })
    .optional(),
});

const devServerSchema = z.object({
  /** Ports of `ultralink server` (temporal server start-dev). */
  port: z.number().int().default(7233),
  uiPort: z.number().int().default(8233),
  /** SQLite file under the state dir, so a run survives a server restart. */
  dbFile: z.string().default('temporal.sqlite'),
});

const llmSchema = z.object({
  /** OpenAI-compatible base URL (OpenAI, vLLM, llama.cpp server, Ollama). Unset = embedded local model. */
  baseUrl: z.string().url().optional(),
  model: z.string().default('gpt-3.5-turbo'),
  /** Name of the worker environment variable that holds the API key (the key itself never enters config). */
  apiKeyEnv: z.string().default('ULTRALINK_LLM_API_KEY'),
  temperature: z.number().min(0).max(2).default(0.7),
  topP: z.number().gt(0).max(1).default(1),
  maxTokens: z.number().int().positive().default(1024),
  contextWindow: z.number().int().positive().default(16_385),
  /** Per-call limit: the HTTP request to an endpoint (a retryable timeout), or the embedded model's generation time (the call ends as truncated). */
  timeoutMs: z.number().int().positive().default(120_000),
  /** LLM activities one worker runs at once. */
  concurrency: z.number().int().positive().default(16),
  /**
   * Fleet-wide LLM activity starts per second (the LLM task queue's rate limit; same on every worker). A judgement
   * or a translated field is one call; a dialogue is one activity of 2 calls per turn, so in chat_specific the
   * call rate is this times the calls per dialogue (6.3 at the default plan, 3.14 turns): size it with docs/capacity.md.
   */
  ratePerSecond: z.number().positive().optional(),
  /** USD per million tokens, for the cost estimate and the budget. */
  pricing: z.object({ inputPerMTok: z.number().nonnegative().default(0.5), outputPerMTok: z.number().nonnegative().default(1.5) }).default({ inputPerMTok: 0.5, outputPerMTok: 1.5 }),
  /** Embedded local model (node-llama-cpp) used when baseUrl is unset. */
  local: z
    .object({
      modelPath: z.string().optional(),
      modelUrl: z.string().optional(),
      /** Registry-shipped model used when neither path nor URL is given (src/llm/model-acquire.ts PYPI_MODELS). */
      pypiModel: z.string().default(DEFAULT_PYPI_MODEL),
      threads: z.number().int().positive().default(2),
      parallelSequences: z.number().int().positive().default(2),
      contextSize: z.number().int().positive().default(4096),
    })
    .prefault({}),
});

const retrySchema = z.object({
  /** Temporal owns retries; these shape every activity's policy. Tests scale them down. */
  initialIntervalMs: z.number().int().positive().default(1_000),
  maximumIntervalMs: z.number().int().positive().default(60_000),
  backoffCoefficient: z.number().min(1).default(2),
  /** How long an LLM call may keep retrying through an outage before the run fails. */
  llmScheduleToCloseMs: z.number().int().positive().default(6 * 3600_000),
  /**
   * How long a CPU/storage activity (an extraction, an assembly) may keep retrying before the build fails: a
   * storage outage is outlived, an unforeseen error is not retried forever. A permanent error fails at once.
   */
  workScheduleToCloseMs: z.number().int().positive().default(12 * 3600_000),
  /** Start-to-close of one LLM attempt (above llm.timeoutMs). */
  llmStartToCloseMs: z.number().int().positive().default(180_000),
  /** A worker that stops heartbeating for this long is presumed dead and its activity retried elsewhere. */
  heartbeatTimeoutMs: z.number().int().positive().default(30_000),
});

const workerSchema = z.object({
  /** CPU/IO activities one worker runs at once. */
  workConcurrency: z.number().int().positive().default(2),
  /** Workflow tasks one worker runs at once. */
  workflowConcurrency: z.number().int().positive().default(40),
});


/** Live control of a running build: budget, review gates, adaptive concurrency. */
const controlSchema = z.object({
  /** Estimated spend (tokens × llm.pricing) at which the build pauses itself; `ultralink set --budget` raises it. */
  budgetUsd: z.number().positive().optional(),
  /** Per language: pause its chat_specific stage after this many dialogues so someone can read them (`unpause` continues). */
  reviewAfter: z.record(z.string(), z.number().int().positive()).default({}),
  /** Stop drawing after quota × this many candidates (0 = draw until the source runs out): bounds the cost of a model that fails the gates. */
  maxDrawFactor: z.number().nonnegative().default(0),
  /**
   * Candidates a stage may have in flight, as a multiple of the keepers it still needs, once its drops show they are
   * needed (quota-stage `candidatesWanted`). 1 = only positions that could still be needed (no call is spent on an
   * item that cannot be written). Above 1 a small model's failing stage tries candidates side by side; keepers past
   * the quota are counted `<stage>_over_quota` and not written, so the dataset is the same either way.
   */
  speculation: z.number().min(1).default(1),
  /**
   * Cap on one stage's LLM calls in flight across all workers, split exactly across its batches; `ultralink set
   * --concurrency` changes it live. Unset: a stage is bounded by the workers' slots (llm.concurrency each), the
   * rate limit and AIMD, and may use any free slot.
   */
  concurrency: z.number().int().positive().optional(),
  /** Draw positions per batch child workflow: bounds each batch's history (about 6 events per item). */
  batchSize: z.number().int().positive().default(50),
  /** Adaptive concurrency on 429s: multiply by decreaseFactor, add increase per clean call, never below minConcurrency. */
  aimd: z
    .object({
      minConcurrency: z.number().int().positive().default(1),
      increase: z.number().positive().default(1),
      decreaseFactor: z.number().gt(0).lt(1).default(0.5),
    })
    .prefault({}),
});

/** Knowledge preparation (paper §2.1.1); per-language fields come from the language entry. */
const knowledgeSchema = knowledgeOptionsSchema.omit({ lang: true, fasttextLabel: true, scriptConversion: true }).extend({
  /** Byte-range groups a multistream dump is split into (parallel activities across workers). */
  rangeGroups: z.number().int().positive().default(8),
});

/** One English source file of the language-agnostic stage. */
const sourceFileSchema = z.object({ path: z.string().min(1), format: z.enum(['sharegpt', 'metamath', 'magicoder_oss', 'magicoder_evol']) });

/** Language-agnostic data (paper §2.2–2.4): sources, Table 2 quotas, judge and translation retries. */
const agnosticSchema = agnosticOptionsSchema.extend({
  sources: z
    .object({ chat: z.array(sourceFileSchema).default([]), math: z.array(sourceFileSchema).default([]), code: z.array(sourceFileSchema).default([]) })
    .prefault({}),
  prefilter: prefilterOptionsSchema.prefault({}),
});

export const configSchema = z
  .object({
    /** Seed of every random choice in the run. */
    seed: z.number().int().default(42),
    /** Project state (dev-server DB, local storage, caches) lives here; relative to the working directory. */
    stateDir: z.string().default('.ultralink'),
    /** Languages to build; keys are ISO codes with a prompt pack in src/prompts. */
    // Entries stay raw here: each is merged over the built-in defaults first, then validated (resolveConfig).
    languages: z.record(z.string().regex(/^[a-z]{2,3}$/), z.record(z.string(), z.unknown())).default({}),
    temporal: temporalSchema.default(temporalSchema.parse({})),
    devServer: devServerSchema.default(devServerSchema.parse({})),
    llm: llmSchema.default(llmSchema.parse({})),
    retry: retrySchema.default(retrySchema.parse({})),
    worker: workerSchema.default(workerSchema.parse({})),
    storage: storageConfigSchema.default({ kind: 'local', root: 'data' }),
    knowledge: knowledgeSchema.prefault({}),
    dialogue: dialogueOptionsSchema.omit({ dialoguesPerLanguage: true }).prefault({}),
    agnostic: agnosticSchema.prefault({}),
    quality: qualityOptionsSchema.prefault({}),
    control: controlSchema.prefault({}),
  })
  .strict();

/** Config as written by users (every field optional). */
export type ConfigInput = z.input<typeof configSchema>;

/** Config after defaults, with every language entry complete. */
export type Config = Omit<z.output<typeof configSchema>, 'languages'> & { languages: Record<string, LanguageConfig> };

/** A bad config: one message naming the field. */
export class ConfigError extends PermanentError {
  constructor(message: string) {
    super('Config', message);
  }
}

/** Validates raw config and fills defaults; unknown languages must supply every language field. */
export function resolveConfig(raw: unknown): Config {
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || '(root)';
    throw new ConfigError(`config field '${field}': ${issue.message}`);
  }
  const requested = Object.keys(parsed.data.languages).length > 0 ? parsed.data.languages : Object.fromEntries(Object.keys(DEFAULT_LANGUAGES).map((k) => [k, {}]));
  const languages: Record<string, LanguageConfig> = {};
  for (const [code, partial] of Object.entries(requested)) {
    const merged = languageSchema.safeParse({ ...(DEFAULT_LANGUAGES[code] ?? {}), ...partial });
    if (!merged.success) {
      const issue = merged.error.issues[0]!;
      throw new ConfigError(`config field 'languages.${code}.${issue.path.join('.')}': ${issue.message}`);
    }
    languages[code] = merged.data;
  }
  return { ...parsed.data, languages };
}

/** Reads and resolves a YAML config file; a missing or unparsable file is a ConfigError. */
export function loadConfigFile(file: string): Config {
  if (!existsSync(file)) throw new ConfigError(`config file not found: ${file}`);
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return resolveConfig(raw);
}

/** Deep-merges plain objects (override wins); arrays and scalars are replaced. */
export function mergeConfigInput(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) out[k] = mergeConfigInput(base[k], v);
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Secrets read from the worker's environment only; never part of Config. */
export interface WorkerSecrets {
  llmApiKey?: string;
  /** Temporal Cloud API key (TEMPORAL_API_KEY). */
  temporalApiKey?: string;
}

/** The worker's secrets from its environment (the key variable is named by config). */
export function readWorkerSecrets(config: Config, env: NodeJS.ProcessEnv = process.env): WorkerSecrets {
  return { llmApiKey: env[config.llm.apiKeyEnv] ?? env.OPENAI_API_KEY, temporalApiKey: env.TEMPORAL_API_KEY };
}

/** Absolute state dir. */
export function stateDirOf(config: Config, cwd = process.cwd()): string {
  return path.resolve(cwd, config.stateDir);
}

/** Settings of the developer tooling (binary cache, verbosity) from the environment. */
export function toolEnv(env: NodeJS.ProcessEnv = process.env): { cacheDir: string; verbose: boolean; ci: boolean } {
  const base = env.ULTRALINK_CACHE ?? path.join(env.XDG_CACHE_HOME ?? path.join(env.HOME ?? '/tmp', '.cache'), 'ultralink');
  return { cacheDir: base, verbose: env.ULTRALINK_VERBOSE === '1', ci: env.CI === 'true' };
}
