/** Prompt size in cl100k_base tokens, the paper's tokenizer, with the chat format's per-message overhead. */
import { countTokens } from '../core/text/tokens';
import type { ChatRequest } from './types';

/** Per-message framing tokens of OpenAI's chat format (role markers); other templates are close to it. */
const PER_MESSAGE_OVERHEAD = 4;

/** Counts by messages array: the activity's fit check and the gateway's guard count the same request once. */
const counted = new WeakMap<ChatRequest['messages'], number>();

/** Tokens the request's messages occupy in the context window (one shared, memoised encoder: this runs on every LLM call). */
export function countPromptTokens(request: ChatRequest): number {
  const known = counted.get(request.messages);
  if (known !== undefined) return known;
  let total = 3;
  for (const m of request.messages) total += PER_MESSAGE_OVERHEAD + countTokens(m.content);
  counted.set(request.messages, total);
  return total;
}
