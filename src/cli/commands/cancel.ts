/** `ultralink cancel ID`: stops a build cleanly; finished outputs stay in storage. */
import type { Command } from 'commander';
import { cancelBuild } from '../../client';
import { clientFor, configFrom, withConfig } from '../common';

export function registerCancel(program: Command): void {
  withConfig(program.command('cancel <id>').description('cancel a build, keeping finished outputs')).action(async (id: string, opts) => {
    const config = configFrom(opts);
    await cancelBuild(await clientFor(config), id);
    console.log(`cancellation requested for ${id}`);
  });
}
