/** `ultralink run -c CONFIG [--wait]`: checks the build's local inputs, starts it and prints its id and UI link. */
import type { Command } from 'commander';
import { startBuild, waitForBuild } from '../../client';
import { ConfigError } from '../../config';
import { checkBuildInputs } from '../../preflight';
import { clientFor, configFrom, withConfig } from '../common';

export function registerRun(program: Command): void {
  withConfig(program.command('run').description('start a build'))
    .option('--id <buildId>', 'build id (default: generated)')
    .option('--wait', 'wait for the build to finish and print its result')
    .action(async (opts) => {
      const config = configFrom(opts);
      const problems = checkBuildInputs(config);
      if (problems.length > 0) throw new ConfigError(`nothing started: ${problems.length} input(s) cannot be used\n  ${problems.join('\n  ')}`);
      const client = await clientFor(config);
      const started = await startBuild(client, config, { buildId: opts.id });
      console.log(`build ${started.buildId}`);
      console.log(`UI    ${started.uiUrl}`);
      if (opts.wait) console.log(JSON.stringify(await waitForBuild(client, started.buildId), null, 2));
    });
}
