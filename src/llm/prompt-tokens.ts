/** Prompt size in cl100k_base tokens, the paper's tokenizer, with the chat format's per-message overhead. */
import { get_encoding, type Tiktoken } from 'tiktoken';
import type { ChatRequest } from './types';

let encoder: Tiktoken | undefined;

/** Per-message framing tokens of OpenAI's chat format (role markers); other templates are close to it. */
const PER_MESSAGE_OVERHEAD = 4;

/** Tokens the request's messages occupy in the context window. */
export function countPromptTokens(request: ChatRequest): number {
  encoder ??= get_encoding('cl100k_base');
  let total = 3;
  for (const m of request.messages) total += PER_MESSAGE_OVERHEAD + encoder.encode(m.content, 'all').length;
  return total;
}
