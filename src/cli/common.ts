/** Options and helpers every command shares. */
import type { Command } from 'commander';
import { loadConfigFile, resolveConfig, readWorkerSecrets, type Config } from '../config';
import { connectClient, type BuildFailure } from '../client';

/** Adds `-c, --config <file>` to a command. */
export function withConfig(cmd: Command): Command {
  return cmd.option('-c, --config <file>', 'YAML config file (defaults apply to every field left out)');
}

/** The resolved config of a command's `--config` option. */
export function configFrom(opts: { config?: string }): Config {
  return opts.config ? loadConfigFile(opts.config) : resolveConfig({});
}

/** A connected client for the config's Temporal address. */
export async function clientFor(config: Config) {
  return connectClient(config, readWorkerSecrets(config));
}

/** One line naming where a build failed and why, e.g. `failed in ul-…/en/knowledge (extractPages): DumpNotFound: …`. */
export function renderFailure(f: BuildFailure): string {
  const where = f.workflowId ? ` in ${f.workflowId}${f.activity ? ` (${f.activity})` : ''}` : f.activity ? ` in ${f.activity}` : '';
  return `failed${where}: ${f.type ? `${f.type}: ` : ''}${f.message}`;
}
