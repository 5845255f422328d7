/** `ultralink unpause ID`: continues a paused build or passes a review gate. */
import type { Command } from 'commander';
import { buildControl, unpauseBuild } from '../../client';
import { clientFor, configFrom, withConfig } from '../common';

export function registerUnpause(program: Command): void {
  withConfig(program.command('unpause <id>').description('continue a paused build (or one waiting at a review gate)')).action(async (id: string, opts) => {
    const config = configFrom(opts);
    const client = await clientFor(config);
    await unpauseBuild(client, id);
    const c = await buildControl(client, id);
    // A budget pause outlives unpause: say what lifts it.
    if (c.budgetPaused) console.log(`${id} stays paused: spent ~$${c.spentUsd.toFixed(4)} of the $${c.budgetUsd} budget; raise it with \`ultralink set ${id} --budget X\``);
    else console.log(`${id} continues`);
  });
}
