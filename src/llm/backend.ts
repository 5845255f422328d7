/** Chooses the LLM backend: an OpenAI-compatible endpoint when configured, else the embedded local model. */
import type { Config, WorkerSecrets } from '../config';
import { createLocalBackend } from './local-backend';
import { ensureLocalModel, modelSourceFrom } from './model-acquire';
import { createOpenAiBackend } from './openai-backend';
import type { LlmBackend } from './types';

/** The backend the worker's gateway uses. */
export async function createBackend(config: Config, secrets: WorkerSecrets, modelCacheDir: string): Promise<LlmBackend> {
  const llm = config.llm;
  if (llm.baseUrl) {
    return createOpenAiBackend({ baseURL: llm.baseUrl, apiKey: secrets.llmApiKey ?? 'none', model: llm.model, timeoutMs: llm.timeoutMs, keyEnvVar: llm.apiKeyEnv });
  }
  // node-llama-cpp itself is imported lazily inside the local backend: only the embedded default pays for it.
  const model = await ensureLocalModel({ cacheDir: modelCacheDir, source: modelSourceFrom(llm.local) });
  // The recorded model name is the file's, not the OpenAI default in llm.model.
  return createLocalBackend({ modelPath: model.path, contextSize: llm.local.contextSize, threads: llm.local.threads, parallelSequences: llm.local.parallelSequences, timeoutMs: llm.timeoutMs });
}
