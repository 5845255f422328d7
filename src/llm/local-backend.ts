/** The embedded LLM backend: a GGUF model run in-process by node-llama-cpp on the CPU, no server and no network. */
import path from 'node:path';
import type { ChatHistoryItem, Llama, LlamaChat, LlamaContext, LlamaGrammar, LlamaModel } from 'node-llama-cpp' with { 'resolution-mode': 'import' };
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
  const waiting: Array<(slot: Slot) => void> = [];
  const grammars = new Map<string, Promise<LlamaGrammar>>();
  let closed = false;

  function acquire(signal?: AbortSignal): Promise<Slot> {
    const slot = free.pop();
    if (slot) return Promise.resolve(slot);
    return new Promise<Slot>((resolve, reject) => {
      const onAbort = (): void => {
        const i = waiting.indexOf(grant);
        if (i >= 0) waiting.splice(i, 1);
        reject(signal?.reason);
      };
      const grant = (s: Slot): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(s);
      };
      waiting.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  function release(slot: Slot): void {
    const next = waiting.shift();
    if (next) next(slot);
    else free.push(slot);
  }

  function grammarFor(schema: Record<string, unknown>): Promise<LlamaGrammar> {
    const key = JSON.stringify(schema);
    let grammar = grammars.get(key);
    if (!grammar) {
      grammar = llama.createGrammarForJsonSchema(schema as never).catch((error: unknown) => {
        grammars.delete(key);
        throw new LlmBadRequestError(`local model cannot turn the JSON schema into a grammar: ${(error as Error).message}`, {
          retryable: false,
          code: 'unsupported_json_schema',
          cause: error,
        });
      }) as Promise<LlamaGrammar>;
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
    const promptTokens = wrapper.generateContextState({ chatHistory: history }).contextText.tokenize(model.tokenizer).length;
    if (promptTokens >= context.contextSize) {
      throw new LlmBadRequestError(`prompt of ${promptTokens} tokens does not fit the local model's context of ${context.contextSize} tokens`, {
        retryable: false,
        code: 'context_length_exceeded',
      });
    }
    // Never let node-llama-cpp shift the context (it would silently drop history): cap the completion instead.
    const maxTokens = Math.max(1, Math.min(request.maxTokens, context.contextSize - promptTokens));
    const grammar = request.jsonSchema ? await grammarFor(request.jsonSchema.schema) : undefined;

    const slot = await acquire(signal);
    // The time limit starts with the generation: waiting for a sequence is not the model being slow.
    const deadline = opts.timeoutMs === undefined ? undefined : AbortSignal.timeout(opts.timeoutMs);
    const abort = deadline && signal ? AbortSignal.any([signal, deadline]) : (deadline ?? signal);
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

