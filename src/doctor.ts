/** Health checks behind `ultralink doctor`: each says what is wrong and how to fix it. */
import { Connection } from '@temporalio/client';
import type { Config, WorkerSecrets } from './config';
import { stateDirOf } from './config';
import { createOpenAiBackend } from './llm/openai-backend';
import { createStorage } from './storage';
import { connectionOptions } from './temporal-connection';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

/** Runs every check; never throws. */
export async function runChecks(config: Config, secrets: WorkerSecrets, localModelPresent: () => Promise<boolean>): Promise<Check[]> {
  return [await checkTemporal(config, secrets), await checkLlm(config, secrets, localModelPresent), await checkStorage(config)];
}

async function checkTemporal(config: Config, secrets: WorkerSecrets): Promise<Check> {
  const name = 'temporal';
  try {
    const connection = await Connection.connect({ ...connectionOptions(config, secrets), connectTimeout: 3_000 });
    try {
      await connection.workflowService.describeNamespace({ namespace: config.temporal.namespace });
    } finally {
      await connection.close();
    }
    return { name, ok: true, detail: `reachable at ${config.temporal.address}, namespace ${config.temporal.namespace}` };
  } catch (err) {
    return {
      name,
      ok: false,
      detail: `cannot reach Temporal at ${config.temporal.address}: ${firstLine(err)}`,
      fix: 'start the dev server with `ultralink server` (or point temporal.address at your cluster)',
    };
  }
}

async function checkLlm(config: Config, secrets: WorkerSecrets, localModelPresent: () => Promise<boolean>): Promise<Check> {
  const name = 'llm';
  const { baseUrl, model, apiKeyEnv, timeoutMs } = config.llm;
  if (!baseUrl) {
    return (await localModelPresent())
      ? { name, ok: true, detail: 'embedded local model is cached' }
      : { name, ok: false, detail: 'no llm.baseUrl configured and the embedded local model is not downloaded yet', fix: 'run `npm start` once (it fetches the model), or set llm.baseUrl and llm.model' };
  }
  try {
    const backend = createOpenAiBackend({ baseURL: baseUrl, apiKey: secrets.llmApiKey ?? 'none', model, timeoutMs: Math.min(timeoutMs, 10_000), keyEnvVar: apiKeyEnv });
    const models = await backend.listModels();
    if (models.length > 0 && !models.includes(model)) {
      return { name, ok: false, detail: `${baseUrl} does not serve model ${model} (it serves: ${models.slice(0, 5).join(', ')})`, fix: 'set llm.model to a served model' };
    }
    return { name, ok: true, detail: `${baseUrl} serves ${model}` };
  } catch (err) {
    return { name, ok: false, detail: `LLM endpoint ${baseUrl}: ${firstLine(err)}`, fix: `check llm.baseUrl and export ${apiKeyEnv} in the worker's environment` };
  }
}

async function checkStorage(config: Config): Promise<Check> {
  const name = 'storage';
  try {
    const storage = createStorage(config.storage, { stateDir: stateDirOf(config) });
    const key = `doctor/probe-${Date.now()}.txt`;
    await storage.put(key, 'ok');
    const back = await storage.getText(key);
    await storage.delete(key);
    if (back !== 'ok') throw new Error('read back a different value');
    return { name, ok: true, detail: `writable: ${storage.location}` };
  } catch (err) {
    return { name, ok: false, detail: `storage not writable: ${firstLine(err)}`, fix: 'check storage.* in the config (and S3 credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)' };
  }
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0]!;
}
