/**
 * LlmBackend over any OpenAI-compatible chat completions endpoint (OpenAI, vLLM, llama.cpp
 * server, Ollama) through the `openai` package. The client never retries (`maxRetries: 0`):
 * Temporal owns retries, so every failure surfaces at once as an LlmError subclass.
 */
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import {
  LlmBadRequestError,
  LlmError,
  LlmMalformedResponseError,
  connectionError,
  errorFromHttp,
  isContextLengthError,
  wantsMaxCompletionTokens,
  type LlmErrorContext,
} from './errors';
import type { ChatRequest, ChatResult, FinishReason, LlmBackend } from './types';

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

/** The OpenAI-compatible backend; its results may carry `usageEstimated`. */
export interface OpenAiBackend extends LlmBackend {
  chat(request: ChatRequest, signal?: AbortSignal): Promise<OpenAiChatResult>;
}

/** Builds the backend; one instance per worker, it remembers what the endpoint lacks. */
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
  // Set once the endpoint answered 400 to response_format and the same call passed without it;
  // from then on structured output is asked for in the prompt only (callers validate the JSON).
  let responseFormatUnsupported = false;

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

  function params(request: ChatRequest, withSchema: boolean): ChatCompletionCreateParamsNonStreaming {
    const body: ChatCompletionCreateParamsNonStreaming = {
      model: opts.model,
      messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
      temperature: request.temperature,
      top_p: request.topP,
    };
    body[tokenParam] = request.maxTokens;
    if (request.seed !== undefined) body.seed = request.seed;
    if (withSchema && request.jsonSchema) {
      body.response_format = {
        type: 'json_schema',
        json_schema: { name: request.jsonSchema.name, schema: request.jsonSchema.schema, strict: true },
      };
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

  async function send(request: ChatRequest, withSchema: boolean, signal?: AbortSignal): Promise<OpenAiChatResult> {
    try {
      const body = await client.chat.completions.create(params(request, withSchema), { signal });
      return toResult(request, body);
    } catch (err) {
      throw toLlmError(err, signal);
    }
  }

  async function chat(request: ChatRequest, signal?: AbortSignal): Promise<OpenAiChatResult> {
    // At most two in-function re-sends, each fixing a parameter the endpoint told us it rejects;
    // these are protocol negotiation, not retries of transient faults.
    for (let adapt = 0; ; adapt++) {
      const withSchema = request.jsonSchema !== undefined && !responseFormatUnsupported;
      try {
        return await send(request, withSchema, signal);
      } catch (err) {
        if (adapt >= 2 || !(err instanceof LlmBadRequestError) || isContextLengthError(err)) throw err;
        if (wantsMaxCompletionTokens(err) && tokenParam === 'max_tokens') {
          tokenParam = 'max_completion_tokens';
          continue;
        }
        if (!withSchema) throw err;
        const result = await send(request, false, signal);
        responseFormatUnsupported = true; // the same call passed without it: the endpoint lacks response_format
        return result;
      }
    }
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

  return { model: opts.model, chat, listModels };
}

function isOpenAiHost(baseURL: string): boolean {
  try {
    return new URL(baseURL).hostname === 'api.openai.com';
  } catch {
    return false;
  }
}
