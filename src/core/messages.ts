/**
 * What a prompt is and how a completion ended, as the pure stages see them. The LLM layer builds its requests
 * and results on these (llm depends on core, never the reverse).
 */

/** One chat message of a prompt. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Why a completion ended; `length` means it was truncated at maxTokens. */
export type FinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls' | 'unknown';
