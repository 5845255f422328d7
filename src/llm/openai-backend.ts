/**
 * LlmBackend over any OpenAI-compatible chat completions endpoint (OpenAI, vLLM, llama.cpp
 * server, llama-cpp-python, Ollama) through the `openai` package. The client never retries
 * (`maxRetries: 0`): Temporal owns retries, so every failure surfaces at once as an LlmError subclass.
 */
import { createHash } from 'node:crypto';
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { canonicalJson } from './cache';
import {
  IDENTICAL_FAULTS_LIMIT,
  LlmBadRequestError,
  LlmError,
  LlmMalformedResponseError,
  connectionError,
  errorFromHttp,
  identicalFault,
  isContextLengthError,
  isRepeatableFault,
  wantsMaxCompletionTokens,
  type LlmErrorContext,
} from './errors';
import type { FinishReason } from '../core/messages';
import type { ChatRequest, ChatResult, LlmBackend } from './types';

/** Connection settings; the caller reads the key from the worker's environment. */
export interface OpenAiBackendOptions {
  baseURL: string;
  apiKey: string;
  model: string;
  /** Per-request HTTP timeout; keep it below the activity's start-to-close timeout. */
  timeoutMs: number;
  /** Name of the env variable the key came from, for error messages (never the key). */
  keyEnvVar: string;
}

/** A ChatResult whose token counts may be estimated when the server sent no `usage`. */
export interface OpenAiChatResult extends ChatResult {
  /** True when the server omitted usage and the counts are a chars-based estimate. */
  usageEstimated?: boolean;
}

const FINISH_REASONS: Record<string, FinishReason> = {
  stop: 'stop',
  eos: 'stop',
  eos_token: 'stop',
  stop_sequence: 'stop',
  end_turn: 'stop',
  length: 'length',
  max_tokens: 'length',
  content_filter: 'content_filter',
  tool_calls: 'tool_calls',
  function_call: 'tool_calls',
};

/** Maps the finish reasons various servers send onto ours; anything else is `unknown`. */
export function normaliseFinishReason(reason: unknown): FinishReason {
  return typeof reason === 'string' ? (FINISH_REASONS[reason] ?? 'unknown') : 'unknown';
}

/** Crude token estimate for servers that omit usage: one per CJK character, one per 4 other characters. */
export function estimateTokens(text: string): number {
  const cjk = (text.match(/[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]/g) ?? []).length;
  return cjk + Math.ceil((text.length - cjk) / 4);
}

/**
 * How structured output is asked for, most exact first: `response_format` json_schema (OpenAI, vLLM, llama.cpp's
 * llama-server), json_object with a `schema` (llama-cpp-python), or not at all, the prompt alone asking for JSON
 * (callers parse the reply robustly).
 */
export type StructuredOutputRung = 'json_schema' | 'json_object+schema' | 'prompt-only';

/** The ladder a request with a JSON schema steps down when the endpoint refuses a rung. */
export const STRUCTURED_OUTPUT_LADDER: readonly StructuredOutputRung[] = ['json_schema', 'json_object+schema', 'prompt-only'];

/** The OpenAI-compatible backend; its results may carry `usageEstimated`. */
export interface OpenAiBackend extends LlmBackend {
  chat(request: ChatRequest, signal?: AbortSignal): Promise<OpenAiChatResult>;
  /** Sends one tiny request per rung, from the top, and returns (and from then on uses) the first the endpoint accepts. */
  probeStructuredOutput(signal?: AbortSignal): Promise<StructuredOutputRung>;
}

/** The probe's request: a few tokens, one boolean. */
const PROBE_REQUEST: ChatRequest = {
  messages: [{ role: 'user', content: 'Reply with the JSON object {"ok": true} and nothing else.' }],
  maxTokens: 16,
  temperature: 0,
  topP: 1,
  jsonSchema: {
    name: 'structured_output_probe',
    schema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'], additionalProperties: false },
  },
};

/** Distinct (request, error) pairs remembered for the identical-fault count; the oldest is forgotten first. */
const FAULT_MEMORY = 1_000;

/** Builds the backend; one instance per worker, it remembers what the endpoint lacks and which faults repeat. */
export function createOpenAiBackend(opts: OpenAiBackendOptions): OpenAiBackend {
  const client = new OpenAI({
    baseURL: opts.baseURL,
    apiKey: opts.apiKey,
    maxRetries: 0, // Temporal owns retries; a client retry would hide faults and double-bill.
    timeout: opts.timeoutMs,
  });
  const ctx: LlmErrorContext = { baseURL: opts.baseURL, model: opts.model, keyEnvVar: opts.keyEnvVar, secrets: [opts.apiKey] };

  // Learned per endpoint and kept for the worker's lifetime: vLLM, llama.cpp and Ollama want
  // max_tokens; OpenAI's reasoning models reject it and want max_completion_tokens.
  let tokenParam: 'max_tokens' | 'max_completion_tokens' = isOpenAiHost(opts.baseURL) ? 'max_completion_tokens' : 'max_tokens';
  // Index into STRUCTURED_OUTPUT_LADDER of the rung the last passing call used; calls start there.
  let rung = 0;
  // How often each (request body, status, error) was answered, across Temporal's attempts on this worker.
  const faults = new Map<string, number>();

  function toLlmError(err: unknown, signal?: AbortSignal): unknown {
    // Cancellation is not an LLM fault: rethrow the signal's reason (Temporal's CancelledFailure).
    if (signal?.aborted) return signal.reason ?? err;
    if (err instanceof LlmError) return err;
    if (err instanceof APIUserAbortError) return err;
    if (err instanceof APIConnectionTimeoutError) return connectionError(err, ctx, true);
    if (err instanceof APIConnectionError) return connectionError(err.cause ?? err, ctx);
    if (err instanceof APIError && typeof err.status === 'number') {
      return errorFromHttp(err.status, err.headers, err.error === undefined ? err.message : { error: err.error }, ctx);
    }
    if (err instanceof SyntaxError) {
      return new LlmMalformedResponseError(`${opts.baseURL} answered a body that is not valid JSON: ${err.message}`, {
        retryable: true,
        code: 'invalid_json',
      });
    }
    // Body read failures after the headers arrived (socket reset mid-body) are connection faults.
    if (err instanceof TypeError) return connectionError(err, ctx);
    return err;
  }

  function params(request: ChatRequest, structured: StructuredOutputRung | undefined): ChatCompletionCreateParamsNonStreaming {
    const body: ChatCompletionCreateParamsNonStreaming = {
      model: opts.model,
      messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
      temperature: request.temperature,
      top_p: request.topP,
    };
    body[tokenParam] = request.maxTokens;
    if (request.seed !== undefined) body.seed = request.seed;
    if (request.jsonSchema && structured === 'json_schema') {
      body.response_format = {
        type: 'json_schema',
        json_schema: { name: request.jsonSchema.name, schema: request.jsonSchema.schema, strict: true },
      };
    } else if (request.jsonSchema && structured === 'json_object+schema') {
      // Not in OpenAI's types: llama-cpp-python's (and Anyscale's) json_object carries the schema beside the type.
      body.response_format = { type: 'json_object', schema: request.jsonSchema.schema } as ChatCompletionCreateParamsNonStreaming['response_format'];
    }
    return body;
  }

  function toResult(request: ChatRequest, body: unknown): OpenAiChatResult {
    if (!body || typeof body !== 'object') {
      throw new LlmMalformedResponseError(`${opts.baseURL} answered a non-JSON body`, { retryable: true, code: 'not_json' });
    }
    const completion = body as Partial<ChatCompletion>;
    const choice = Array.isArray(completion.choices) ? completion.choices[0] : undefined;
    if (!choice || typeof choice !== 'object') {
      throw new LlmMalformedResponseError(`${opts.baseURL} answered a completion with no choices`, {
        retryable: true,
        code: 'no_choices',
      });
    }
    const finishReason = normaliseFinishReason(choice.finish_reason);
    let content = choice.message?.content;
    if (typeof content !== 'string') {
      // A truncated or filtered completion may legitimately carry no text.
      if (finishReason !== 'length' && finishReason !== 'content_filter') {
        throw new LlmMalformedResponseError(`${opts.baseURL} answered a choice without message content`, {
          retryable: true,
          code: 'no_content',
        });
      }
      content = '';
    }
    const usage = completion.usage;
    const model = typeof completion.model === 'string' && completion.model ? completion.model : opts.model;
    if (usage && typeof usage.prompt_tokens === 'number' && typeof usage.completion_tokens === 'number') {
      return { content, finishReason, promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, model };
    }
    return {
      content,
      finishReason,
      promptTokens: request.messages.reduce((n, m) => n + estimateTokens(m.content) + 4, 0),
      completionTokens: estimateTokens(content),
      model,
      usageEstimated: true,
    };
  }

  async function send(request: ChatRequest, body: ChatCompletionCreateParamsNonStreaming, signal?: AbortSignal): Promise<OpenAiChatResult> {
    try {
      return toResult(request, await client.chat.completions.create(body, { signal }));
    } catch (err) {
      throw toLlmError(err, signal);
    }
  }

  /** Counts a 500 per (body, status, message); at the limit it is returned non-retryable, so Temporal stops retrying it. */
  function counted(body: ChatCompletionCreateParamsNonStreaming, err: unknown): unknown {
    if (!isRepeatableFault(err)) return err;
    const key = createHash('sha256').update(canonicalJson(body)).update(`\n${err.status}\n${err.message}`).digest('hex');
    const times = (faults.get(key) ?? 0) + 1;
    faults.delete(key); // re-inserted last, so the oldest pair is the one forgotten
    faults.set(key, times);
    if (faults.size > FAULT_MEMORY) faults.delete(faults.keys().next().value!);
    return times >= IDENTICAL_FAULTS_LIMIT ? identicalFault(err, times) : err;
  }

  /**
   * One call, starting at ladder rung `from` when the request has a JSON schema. Re-sends fix what the endpoint
   * said it rejects: max_tokens once, then each refused rung (a capability error, or any other bad request but
   * context length) for the next one down. These are protocol negotiation, not retries of transient faults, and
   * each moves one way, so a call makes at most four requests. The rung that passed is remembered.
   */
  async function ladder(request: ChatRequest, from: number, signal?: AbortSignal): Promise<{ result: OpenAiChatResult; rung: number }> {
    let at = from;
    for (;;) {
      const body = params(request, STRUCTURED_OUTPUT_LADDER[at]);
      try {
        const result = await send(request, body, signal);
        if (request.jsonSchema) rung = at; // a call without a schema proves nothing about the rungs
        return { result, rung: at };
      } catch (err) {
        if (wantsMaxCompletionTokens(err) && tokenParam === 'max_tokens') {
          tokenParam = 'max_completion_tokens';
          continue;
        }
        if (body.response_format && err instanceof LlmBadRequestError && !isContextLengthError(err)) {
          at++;
          continue;
        }
        throw counted(body, err);
      }
    }
  }

  async function chat(request: ChatRequest, signal?: AbortSignal): Promise<OpenAiChatResult> {
    return (await ladder(request, rung, signal)).result;
  }

  async function probeStructuredOutput(signal?: AbortSignal): Promise<StructuredOutputRung> {
    return STRUCTURED_OUTPUT_LADDER[(await ladder(PROBE_REQUEST, 0, signal)).rung];
  }

  async function listModels(signal?: AbortSignal): Promise<string[]> {
    try {
      const ids: string[] = [];
      for await (const m of client.models.list({ signal })) ids.push(m.id);
      return ids.sort();
    } catch (err) {
      throw toLlmError(err, signal);
    }
  }

  return { model: opts.model, chat, listModels, probeStructuredOutput };
}

function isOpenAiHost(baseURL: string): boolean {
  try {
    return new URL(baseURL).hostname === 'api.openai.com';
  } catch {
    return false;
  }
}
