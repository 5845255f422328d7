/** `ultralink resume ID`: continues a failed, cancelled or terminated build, reusing finished work. */
import type { Command } from 'commander';
import { resumeBuild, waitForBuild } from '../../client';
import { clientFor, configFrom, withConfig } from '../common';

export function registerResume(program: Command): void {
  withConfig(program.command('resume <id>').description('continue a failed, cancelled or terminated build as a new run'))
    .option('--wait', 'wait for the build to finish')
    .action(async (id: string, opts) => {
      const client = await clientFor(configFrom(opts));
      const resumed = await resumeBuild(client, id);
      console.log(`build ${id} (was ${resumed.previousStatus.toLowerCase()}) resumed as run ${resumed.runId}`);
      console.log(`UI    ${resumed.uiUrl}`);
      if (opts.wait) console.log(JSON.stringify((await waitForBuild(client, id)).dataset, null, 2));
    });
}
