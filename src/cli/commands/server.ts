/** `ultralink server`: the Temporal dev server with a SQLite file under the state dir and our search attributes. */
import path from 'node:path';
import type { Command } from 'commander';
import { stateDirOf, toolEnv } from '../../config';
import { ensureTemporalBinary, startDevServer } from '../../devtools/temporal';
import { configFrom, withConfig } from '../common';

export function registerServer(program: Command): void {
  withConfig(program.command('server').description('run the Temporal dev server (SQLite persistence, Web UI)')).action(async (opts) => {
    const config = configFrom(opts);
    const binary = ensureTemporalBinary(toolEnv().cacheDir, (m) => console.error(m));
    const server = await startDevServer({
      binary,
      dbFile: path.join(stateDirOf(config), config.devServer.dbFile),
      port: config.devServer.port,
      uiPort: config.devServer.uiPort,
      namespace: config.temporal.namespace,
      foreground: true,
    });
    console.log(`Temporal dev server on ${server.address}; Web UI ${server.uiUrl}`);
    await new Promise<void>((resolve) => server.process.once('exit', () => resolve()));
  });
}
