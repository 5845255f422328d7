/** `ultralink resume ID`: continues a failed, cancelled or terminated build, reusing finished work. */
import type { Command } from 'commander';
import { buildFailure, resumeBuild, waitForBuild } from '../../client';
import { clientFor, configFrom, renderFailure, withConfig } from '../common';

export function registerResume(program: Command): void {
  withConfig(program.command('resume <id>').description('continue a failed, cancelled or terminated build as a new run'))
    .option('--wait', 'wait for the build to finish')
    .action(async (id: string, opts) => {
      const client = await clientFor(configFrom(opts));
      // Said before the new run replaces it as the latest: what the user is resuming from.
      const failure = await buildFailure(client, id).catch(() => undefined);
      const resumed = await resumeBuild(client, id);
      if (failure) console.log(`its last run ${renderFailure(failure)}`);
      console.log(`build ${id} (was ${resumed.previousStatus.toLowerCase()}) resumed as run ${resumed.runId}`);
      const { spentUsd, budgetUsd } = resumed.carried;
      if (budgetUsd !== undefined) {
        console.log(`spent so far ~$${spentUsd.toFixed(4)} of the $${budgetUsd} budget, which covers the whole build`);
        if (spentUsd >= budgetUsd) console.log(`the build pauses at once: raise the budget with \`ultralink set ${id} --budget X\``);
      } else if (spentUsd > 0) console.log(`spent so far ~$${spentUsd.toFixed(4)}`);
      console.log(`UI    ${resumed.uiUrl}`);
      if (opts.wait) console.log(JSON.stringify((await waitForBuild(client, id)).dataset, null, 2));
    });
}
