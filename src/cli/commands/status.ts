/** `ultralink status [ID] [--watch]` and `ultralink list`. */
import type { Command } from 'commander';
import { buildFailure, buildStatus, listBuilds, uiUrlFor, waitForBuild } from '../../client';
import type { Config } from '../../config';
import { displayPricing, readStageRows, renderBuildLine, renderRows, watchBuild } from '../build-progress';
import { clientFor, configFrom, renderFailure, withConfig } from '../common';

async function printList(config: Config): Promise<void> {
  const builds = await listBuilds(await clientFor(config));
  if (builds.length === 0) console.log('no builds');
  for (const s of builds) console.log(renderBuildLine(s, uiUrlFor(config, s.buildId)));
}

/** Registers `status [id] [--watch]` and `list`. */
export function registerStatus(program: Command): void {
  withConfig(program.command('status [id]').description('show one build (live with --watch), or the recent builds'))
    .option('--watch', 'refresh progress bars per language × stage every 2 s until the build closes')
    .action(async (id: string | undefined, opts) => {
      const config = configFrom(opts);
      if (!id) return printList(config);
      const client = await clientFor(config);
      const s = await buildStatus(client, id);
      if (!s) throw new Error(`no build with id ${id}`);
      console.log(renderBuildLine(s, uiUrlFor(config, id)));
      if (opts.watch && s.status === 'RUNNING') {
        console.log(`UI  ${uiUrlFor(config, id)}`);
        const closed = await watchBuild(client, id, { pricing: displayPricing(config.llm) }).closed;
        console.log(`build ${id} ${closed?.toLowerCase() ?? 'closed'}`);
      } else {
        for (const line of renderRows((await readStageRows(client, id, displayPricing(config.llm))).rows)) console.log(line);
      }
      const final = opts.watch ? await buildStatus(client, id) : s;
      if (final?.status === 'COMPLETED') {
        const { dataset } = await waitForBuild(client, id);
        console.log(`dataset: ${dataset.datasetPrefix}`);
        console.log(dataset.qualityPassed ? 'quality: every file passes its thresholds' : `quality: failing files ${dataset.failingFiles.join(', ')}\n  ${dataset.qualityFailures.join('\n  ')}`);
      } else if (final && final.status !== 'RUNNING') {
        const failure = final.status === 'FAILED' ? await buildFailure(client, id) : undefined;
        if (failure) console.log(`build ${id} ${renderFailure(failure)}`);
        console.log(`ultralink resume ${id} continues it, reusing every finished output and cached LLM answer`);
      }
    });
  withConfig(program.command('list').description('list recent builds with state, progress and UI links')).action(async (opts) => {
    await printList(configFrom(opts));
  });
}
