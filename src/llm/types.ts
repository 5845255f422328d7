/** The contract every LLM backend (OpenAI-compatible HTTP, in-process local model) fulfils. */
import type { ChatMessage, FinishReason } from '../core/messages';

export interface ChatRequest {
  messages: ChatMessage[];
  maxTokens: number;
  temperature: number;
  topP: number;
  /** Sampling seed passed to backends that honour it. */
  seed?: number;
  /** JSON schema for structured output, used when the backend supports it. */
  jsonSchema?: { name: string; schema: Record<string, unknown> };
  /**
   * A GBNF grammar bounding the output's shape, for a backend that constrains decoding: the embedded model. Other
   * backends send nothing for it. No stage sets one: a one-question grammar kept no more questions
   * (bench/question-grammar.ts); the judge's JSON goes through jsonSchema.
   */
  gbnf?: string;
}

export interface ChatResult {
  content: string;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
  model: string;
}

export interface LlmBackend {
  /** Model name as recorded in outputs. */
  readonly model: string;
  /** One chat completion; rejects with an LlmError subclass; `signal` aborts the request. */
  chat(request: ChatRequest, signal?: AbortSignal): Promise<ChatResult>;
  /** Models the endpoint serves (for `doctor`). */
  listModels(signal?: AbortSignal): Promise<string[]>;
  close?(): Promise<void>;
}
