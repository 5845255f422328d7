/** Chooses the LLM backend: an OpenAI-compatible endpoint when configured, else the embedded local model. */
import type { Config, WorkerSecrets } from '../config';
import { createOpenAiBackend } from './openai-backend';
import type { LlmBackend } from './types';

/** The backend the worker's gateway uses. */
export async function createBackend(config: Config, secrets: WorkerSecrets, modelCacheDir: string): Promise<LlmBackend> {
  const llm = config.llm;
  if (llm.baseUrl) {
    return createOpenAiBackend({ baseURL: llm.baseUrl, apiKey: secrets.llmApiKey ?? 'none', model: llm.model, timeoutMs: llm.timeoutMs, keyEnvVar: llm.apiKeyEnv });
  }
  // Loaded lazily: node-llama-cpp is heavy and only the embedded default needs it.
  const { ensureLocalModel } = require('./model-acquire') as typeof import('./model-acquire');
  const { createLocalBackend } = require('./local-backend') as typeof import('./local-backend');
  const model = await ensureLocalModel({ cacheDir: modelCacheDir, source: llm.local.modelPath ?? llm.local.modelUrl });
  return createLocalBackend({
    modelPath: model.path,
    contextSize: llm.local.contextSize,
    threads: llm.local.threads,
    parallelSequences: llm.local.parallelSequences,
    model: llm.model,
  });
}
