/** `ultralink pause ID`: no new LLM call starts; calls in flight finish. */
import type { Command } from 'commander';
import { pauseBuild } from '../../client';
import { clientFor, configFrom, withConfig } from '../common';

export function registerPause(program: Command): void {
  withConfig(program.command('pause <id>').description('stop starting LLM calls: calls in flight finish, running dialogues and translations stop after theirs')).action(async (id: string, opts) => {
    const config = configFrom(opts);
    await pauseBuild(await clientFor(config), id);
    console.log(`pause requested for ${id}; \`ultralink unpause ${id}\` continues`);
  });
}
