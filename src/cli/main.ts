/** `ultralink` command line: parses and prints only; the work happens in client.ts, worker.ts and devtools. */
import { WorkflowFailedError } from '@temporalio/client';
import { Command } from 'commander';
import { rootCause } from '../client';
import { ConfigError } from '../config';
import { registerCommands } from './commands';
import { renderFailure } from './common';

/** Runs the CLI on argv; exits non-zero with one message on a bad config or a failed command. */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('ultralink')
    .description('Build UltraLink-style multilingual SFT datasets as durable Temporal workflows')
    .showHelpAfterError();
  registerCommands(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    // A failed build's own message is only "Workflow execution failed": print the cause at the bottom of its chain.
    const cause = err instanceof WorkflowFailedError ? rootCause(err) : undefined;
    const message = cause ? `build ${renderFailure(cause)}` : err instanceof ConfigError ? err.message : ((err as Error).message ?? String(err));
    console.error(`ultralink: ${message}`);
    process.exitCode = err instanceof ConfigError ? 2 : 1;
  }
}
