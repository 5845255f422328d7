/** Build bookkeeping: the resolved config saved beside the outputs, and batch records of kept items. */
import type { Config } from '../config';
import { buildConfigKey, keptBatchKey } from '../names';
import { putJson } from '../storage/json';
import type { BuildContext } from './build-context';

/** Build bookkeeping activities. */
export function createBuildActivities(ctx: BuildContext) {
  return {
    /** Saves the resolved config once; a resumed build keeps the config it started with. */
    async saveBuildConfig({ buildId, config }: { buildId: string; config: Config }): Promise<void> {
      await ctx.storage.putIfAbsent(buildConfigKey(buildId), JSON.stringify(config, null, 2) + '\n');
    },

    /** Records which source items a batch kept, keyed by its first draw position so assembly reads batches in draw order. */
    async recordBatch(input: { buildId: string; lang: string; stage: string; from: number; keptSourceIndices: number[] }): Promise<void> {
      const key = keptBatchKey(input.buildId, input.lang, input.stage, input.from);
      await putJson(ctx.storage, key, { from: input.from, kept: input.keptSourceIndices });
    },
  };
}
