/**
 * The LLM gateway: one place every LLM call goes through, whatever the backend.
 * It refuses prompts that cannot fit the context window, answers from the response cache when it can
 * (a re-run or reset never pays twice), and records tokens and finish_reason. It never retries:
 * Temporal owns retries.
 */
import { PermanentError } from '../core/errors';
import { cacheKey, type ResponseCache } from './cache';
import type { ChatRequest, ChatResult, LlmBackend } from './types';

/** What the gateway returns: the backend's result plus whether it came from the cache. */
export interface GatewayResult extends ChatResult {
  cached: boolean;
}

export interface GatewayDeps {
  backend: LlmBackend;
  cache: ResponseCache;
  contextWindow: number;
  /** Exact prompt token count (cl100k_base or the model's tokenizer). */
  countPromptTokens: (request: ChatRequest) => number;
}

/** A prompt that cannot fit the model's context window with the requested completion. */
export class PromptTooLongError extends PermanentError {
  constructor(
    readonly promptTokens: number,
    readonly maxTokens: number,
    readonly contextWindow: number,
  ) {
    super('PromptTooLong', `prompt of ${promptTokens} tokens + ${maxTokens} completion tokens exceeds the context window of ${contextWindow}`);
  }
}

export interface Gateway {
  readonly model: string;
  chat(request: ChatRequest): Promise<GatewayResult>;
}

/** Builds the gateway over a backend and a cache. */
export function createGateway(deps: GatewayDeps): Gateway {
  const { backend, cache } = deps;
  return {
    model: backend.model,
    async chat(request) {
      const promptTokens = deps.countPromptTokens(request);
      if (promptTokens + request.maxTokens > deps.contextWindow) throw new PromptTooLongError(promptTokens, request.maxTokens, deps.contextWindow);
      const key = cacheKey(backend.model, request);
      const hit = await cache.get(key);
      if (hit) return { ...hit, cached: true };
      const result = await backend.chat(request);
      await cache.put(key, result);
      return { ...result, cached: false };
    },
  };
}
