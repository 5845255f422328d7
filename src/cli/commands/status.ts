/** `ultralink status [ID]` and `ultralink list`. */
import type { Command } from 'commander';
import { buildStatus, listBuilds, uiUrlFor, waitForBuild, type BuildStatus } from '../../client';
import type { Config } from '../../config';
import { clientFor, configFrom, withConfig } from '../common';

function line(config: Config, s: BuildStatus): string {
  const stage = (s.searchAttributes.UltralinkStage as string[] | undefined)?.[0] ?? '-';
  return `${s.buildId}  ${s.status.padEnd(10)}  stage=${stage}  started=${s.startTime?.toISOString() ?? '-'}  ${uiUrlFor(config, s.buildId)}`;
}

export function registerStatus(program: Command): void {
  withConfig(program.command('status [id]').description('show one build, or the recent builds')).action(async (id: string | undefined, opts) => {
    const config = configFrom(opts);
    const client = await clientFor(config);
    if (!id) {
      for (const s of await listBuilds(client)) console.log(line(config, s));
      return;
    }
    const s = await buildStatus(client, id);
    if (!s) throw new Error(`no build with id ${id}`);
    console.log(line(config, s));
    if (s.status === 'COMPLETED') {
      const { dataset } = await waitForBuild(client, id);
      console.log(`dataset: ${dataset.datasetPrefix}`);
      console.log(dataset.qualityPassed ? 'quality: every file passes its thresholds' : `quality: failing files ${dataset.failingFiles.join(', ')}\n  ${dataset.qualityFailures.join('\n  ')}`);
    }
  });
  withConfig(program.command('list').description('list recent builds')).action(async (opts) => {
    const config = configFrom(opts);
    for (const s of await listBuilds(await clientFor(config))) console.log(line(config, s));
  });
}
