/** Whether the embedded model is already on disk (doctor reports it without downloading anything). */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { toolEnv, type Config } from '../config';

/** True when the configured model path exists, or a GGUF sits in the model cache. */
export async function localModelCached(config: Config): Promise<boolean> {
  if (config.llm.local.modelPath) return existsSync(config.llm.local.modelPath);
  const dir = path.join(toolEnv().cacheDir, 'models');
  return existsSync(dir) && readdirSync(dir, { recursive: true }).some((f) => String(f).endsWith('.gguf'));
}
