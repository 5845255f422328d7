/**
 * The embedded LLM backend: a GGUF model run in-process by node-llama-cpp on the CPU, no server and no network. A
 * reply that falls into a loop (core/text/loop: the same words again and again) is cut as soon as the loop shows and
 * returned as truncated, as its token or time limit would return it later: in a fresh-clone demo 7 of 236 calls
 * looped, 2,195 of its 18,430 generated tokens (bench/loop-cut.ts).
 */
import path from 'node:path';
import type { ChatHistoryItem, Llama, LlamaChat, LlamaContext, LlamaGrammar, LlamaModel, Token } from 'node-llama-cpp' with { 'resolution-mode': 'import' };
import { endsInLoop } from '../core/text/loop';
import { LlmBadRequestError, LlmError } from './errors';
import type { FinishReason } from '../core/messages';
import type { ChatRequest, ChatResult, LlmBackend } from './types';

export interface LocalBackendOptions {
  modelPath: string;
  /** Tokens per sequence: prompt plus completion of one call must fit. */
  contextSize: number;
  /** CPU threads for the whole model (shared by all sequences). */
  threads: number;
  /** Calls evaluated at once, batched together; further calls wait in a queue. */
  parallelSequences: number;
  /** Name recorded in outputs; defaults to the file name without `.gguf`. */
  model?: string;
  /**
   * Generation time limit of one call, counted from when it gets a sequence: the call then stops and returns what
   * it wrote as truncated (`finishReason: 'length'`), as a token limit would. A local model that is slow is not an
   * outage to wait out: retrying the same deterministic generation would run into the same limit for hours.
   */
  timeoutMs?: number;
  /**
   * Run each call on the free sequence whose evaluated tokens share the longest start with its prompt (default
   * true), as llama.cpp's server picks its slots: a sequence keeps its state, so a shared start (a pack's system
   * prompt, the same document asked about again) is not evaluated twice. false: any free sequence.
   */
  prefixAffinity?: boolean;
}

/** The local backend plus what it resolved at load time (for `doctor` and logs). */
export interface LocalBackend extends LlmBackend {
  /** node-llama-cpp chat wrapper in use, e.g. `jinjaTemplate` (from the file) or `gemma`. */
  readonly chatWrapper: string;
  readonly contextSize: number;
  /** Tokens of `text` under the model's own tokenizer. */
  countTokens(text: string): number;
  /** Frees the context, model and llama.cpp; later calls reject. */
  close(): Promise<void>;
}

/** A free LlamaChat bound to its own context sequence. */
interface Slot {
  chat: LlamaChat;
}

/** A call waiting for a sequence: its prompt's tokens, how often a later call went first, and how to hand it one. */
interface Waiter {
  tokens: Token[];
  passedOver: number;
  grant: (slot: Slot) => void;
}

/** Tail cut-offs applied to every sampled call, as llama.cpp's server does by default (top_k 40, min_p 0.05). */
const SAMPLING = { topK: 40, minP: 0.05 } as const;

const STOP_REASONS: Record<string, FinishReason> = {
  eogToken: 'stop',
  stopGenerationTrigger: 'stop',
  customStopTrigger: 'stop',
  maxTokens: 'length',
  functionCalls: 'tool_calls',
};

/** Loads the model (CPU only, prebuilt llama.cpp binaries, never a build or download) and returns a backend over it. */
export async function createLocalBackend(opts: LocalBackendOptions): Promise<LocalBackend> {
  // node-llama-cpp is ESM-only; this TS compiles to CommonJS, where only a real dynamic import can load it.
  const nlc = await import('node-llama-cpp');
  const modelName = opts.model ?? path.basename(opts.modelPath).replace(/\.gguf$/i, '');
  const parallel = Math.max(1, opts.parallelSequences);

  let llama: Llama;
  try {
    llama = await nlc.getLlama({
      gpu: false,
      // 'never': use the prebuilt binary shipped in @node-llama-cpp/<platform>; building needs cmake and network.
      build: 'never',
      maxThreads: opts.threads,
      logLevel: nlc.LlamaLogLevel.error,
      progressLogs: false,
    });
  } catch (error) {
    throw new Error(`node-llama-cpp has no usable prebuilt llama.cpp binary for ${process.platform}-${process.arch}: ${(error as Error).message}`, { cause: error });
  }

  let model: LlamaModel;
  let context: LlamaContext;
  try {
    model = await llama.loadModel({ modelPath: opts.modelPath, gpuLayers: 0 });
  } catch (error) {
    await llama.dispose();
    throw new Error(`cannot load GGUF model ${opts.modelPath}: ${(error as Error).message}`, { cause: error });
  }
  try {
    context = await model.createContext({ contextSize: opts.contextSize, sequences: parallel, threads: opts.threads });
  } catch (error) {
    await model.dispose();
    await llama.dispose();
    throw new Error(`cannot create a ${opts.contextSize}-token context x ${parallel} sequences for ${opts.modelPath}: ${(error as Error).message}`, {
      cause: error,
    });
  }

  const wrapper = nlc.resolveChatWrapper(model);
  const free: Slot[] = [];
  for (let i = 0; i < parallel; i++) free.push({ chat: new nlc.LlamaChat({ contextSequence: context.getSequence(), chatWrapper: wrapper }) });
  const waiting: Waiter[] = [];
  const grammars = new Map<string, Promise<LlamaGrammar>>();
  const affinity = opts.prefixAffinity ?? true;
  // How far down the queue a freed sequence looks for a prompt sharing its start, and how many times a call may be
  // passed over for a later one before it takes the next sequence, so none starves.
  const lookahead = parallel * 2;
  let closed = false;
  const shared = (slot: Slot, tokens: Token[]) => slot.chat.sequence.compareContextTokens(tokens).firstDifferentIndex;

  /** Index of the item scoring highest (here: the most tokens shared with a prompt); ties go to the first or the last. */
  function bestOf<T>(items: T[], score: (item: T) => number, tie: 'first' | 'last'): number {
    let best = tie === 'first' ? 0 : items.length - 1;
    let bestScore = -1;
    items.forEach((item, i) => {
      const s = score(item);
      if (s > bestScore || (tie === 'last' && s === bestScore)) [best, bestScore] = [i, s];
    });
    return best;
  }

  /** A free sequence for a prompt of `tokens` (the best prefix match, else the last freed), or a place in the queue. */
  function acquire(tokens: Token[], signal?: AbortSignal): Promise<Slot> {
    if (free.length > 0) {
      const i = affinity ? bestOf(free, (s) => shared(s, tokens), 'last') : free.length - 1;
      return Promise.resolve(free.splice(i, 1)[0]!);
    }
    return new Promise<Slot>((resolve, reject) => {
      const waiter: Waiter = {
        tokens,
        passedOver: 0,
        grant: (s: Slot): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve(s);
        },
      };
      const onAbort = (): void => {
        const i = waiting.indexOf(waiter);
        if (i >= 0) waiting.splice(i, 1);
        reject(signal?.reason);
      };
      waiting.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Hands a freed sequence to the waiting call (among the next `lookahead`) whose prompt best matches its state. */
  function release(slot: Slot): void {
    if (waiting.length === 0) {
      free.push(slot);
      return;
    }
    const i = affinity && waiting[0]!.passedOver < lookahead ? bestOf(waiting.slice(0, lookahead), (w) => shared(slot, w.tokens), 'first') : 0;
    for (const w of waiting.slice(0, i)) w.passedOver += 1;
    waiting.splice(i, 1)[0]!.grant(slot);
  }

  /** The request's grammar, compiled once per distinct schema or GBNF text. */
  function grammarOf(request: ChatRequest): Promise<LlamaGrammar> | undefined {
    const schema = request.jsonSchema?.schema;
    if (schema === undefined && request.gbnf === undefined) return undefined;
    const key = schema !== undefined ? `json:${JSON.stringify(schema)}` : `gbnf:${request.gbnf}`;
    let grammar = grammars.get(key);
    if (!grammar) {
      const compiled = schema !== undefined ? llama.createGrammarForJsonSchema(schema as never) : llama.createGrammar({ grammar: request.gbnf! });
      grammar = (compiled as Promise<LlamaGrammar>).catch((error: unknown) => {
        grammars.delete(key);
        throw new LlmBadRequestError(`local model cannot compile the ${schema !== undefined ? 'JSON schema' : 'GBNF grammar'}: ${(error as Error).message}`, {
          retryable: false,
          code: schema !== undefined ? 'unsupported_json_schema' : 'invalid_grammar',
          cause: error,
        });
      });
      grammars.set(key, grammar);
    }
    return grammar;
  }

  function toHistory(request: ChatRequest): ChatHistoryItem[] {
    return request.messages.map((m): ChatHistoryItem => {
      if (m.role === 'system') return { type: 'system', text: m.content };
      if (m.role === 'user') return { type: 'user', text: m.content };
      return { type: 'model', response: [m.content] };
    });
  }

  async function chat(request: ChatRequest, signal?: AbortSignal): Promise<ChatResult> {
    if (closed) throw new LlmError('local model backend is closed', { retryable: false, code: 'closed' });
    if (signal?.aborted) throw signal.reason;
    const history = toHistory(request);
    // The exact tokens the model will evaluate: the chat template applied to the whole conversation.
    const prompt = wrapper.generateContextState({ chatHistory: history }).contextText.tokenize(model.tokenizer);
    const promptTokens = prompt.length;
    if (promptTokens >= context.contextSize) {
      throw new LlmBadRequestError(`prompt of ${promptTokens} tokens does not fit the local model's context of ${context.contextSize} tokens`, {
        retryable: false,
        code: 'context_length_exceeded',
      });
    }
    // Never let node-llama-cpp shift the context (it would silently drop history): cap the completion instead.
    const maxTokens = Math.max(1, Math.min(request.maxTokens, context.contextSize - promptTokens));
    const grammar = await grammarOf(request);

    const slot = await acquire(prompt, signal);
    // The time limit starts with the generation: waiting for a sequence is not the model being slow.
    const deadline = opts.timeoutMs === undefined ? undefined : AbortSignal.timeout(opts.timeoutMs);
    // A reply caught in a loop is cut as soon as the loop shows, as the token or time limit would cut it later.
    const loop = new AbortController();
    let written = '';
    const abort = AbortSignal.any([loop.signal, ...(deadline ? [deadline] : []), ...(signal ? [signal] : [])]);
    const meterBefore = slot.chat.sequence.tokenMeter.getState();
    try {
      const response = await slot.chat.generateResponse(history, {
        maxTokens,
        temperature: request.temperature,
        topP: request.topP,
        seed: request.seed,
        // llama.cpp server's own defaults: without them a small model sampling at temperature > 0 draws tail
        // tokens mid-word ("Why6Does", "je1 considère"), seen with Qwen2.5-0.5B at top_p 1 in the demo.
        topK: SAMPLING.topK,
        minP: SAMPLING.minP,
        grammar,
        signal: abort,
        onTextChunk: (chunk) => {
          written += chunk;
          if (!loop.signal.aborted && endsInLoop(written)) loop.abort();
        },
        // On the time limit, keep what was written (a truncated output the gates count) instead of throwing it away.
        stopOnAbortSignal: true,
      });
      // The sequence's meter counts every sampled token, including ones the wrapper held back as a possible stop trigger.
      const completionTokens = slot.chat.sequence.tokenMeter.diff(meterBefore).usedOutputTokens;
      const stop = response.metadata.stopReason;
      // Cancellation is not an LLM fault: rethrow the signal's reason (Temporal's CancelledFailure).
      if (signal?.aborted) throw signal.reason ?? new Error('local generation aborted');
      return {
        content: response.response,
        finishReason: stop === 'abort' ? 'length' : (STOP_REASONS[stop] ?? 'unknown'),
        promptTokens,
        completionTokens,
        model: modelName,
      };
    } catch (error) {
      if (signal?.aborted) throw signal.reason ?? error;
      // The limit ran out before the first token (still reading the prompt): truncated with nothing written.
      if (deadline?.aborted) return { content: '', finishReason: 'length', promptTokens, completionTokens: slot.chat.sequence.tokenMeter.diff(meterBefore).usedOutputTokens, model: modelName };
      if (error instanceof LlmError) throw error;
      throw new LlmError(`local model generation failed: ${(error as Error).message}`, { retryable: true, code: 'local_generation_failed', cause: error });
    } finally {
      release(slot);
    }
  }

  return {
    model: modelName,
    chatWrapper: wrapper.wrapperName,
    contextSize: context.contextSize,
    chat,
    countTokens: (text) => model.tokenize(text).length,
    listModels: async () => [modelName],
    async close() {
      if (closed) return;
      closed = true;
      for (const slot of free) slot.chat.dispose();
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

