/** The contract every LLM backend (OpenAI-compatible HTTP, in-process local model) fulfils. */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  messages: ChatMessage[];
  maxTokens: number;
  temperature: number;
  topP: number;
  /** Sampling seed passed to backends that honour it. */
  seed?: number;
  /** JSON schema for structured output, used when the backend supports it. */
  jsonSchema?: { name: string; schema: Record<string, unknown> };
}

/** `length` means the completion was truncated at maxTokens. */
export type FinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls' | 'unknown';

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
