/** `ultralink` command line: parses and prints only; the work happens in client.ts, worker.ts and devtools. */
import { Command } from 'commander';
import { ConfigError } from '../config';
import { registerCommands } from './commands';

/** Runs the CLI on argv; exits non-zero with one message on a bad config or a failed command. */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('ultralink')
    .description('Build UltraLink-style multilingual SFT datasets as durable Temporal workflows')
    .showHelpAfterError();
  registerCommands(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const message = err instanceof ConfigError ? err.message : (err as Error).message ?? String(err);
    console.error(`ultralink: ${message}`);
    process.exitCode = err instanceof ConfigError ? 2 : 1;
  }
}
