/** `ultralink worker`: polls both task queues until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import { readWorkerSecrets } from '../../config';
import { createWorkers } from '../../worker';
import { configFrom, withConfig } from '../common';

export function registerWorker(program: Command): void {
  withConfig(program.command('worker').description('run a worker (workflows, CPU/IO and LLM activities)'))
    .option('--bundle <file>', 'prebuilt workflow bundle (skips bundling at start)')
    .option('--verbose', 'debug-level structured logs on stderr and in <stateDir>/logs/worker.log')
    .action(async (opts) => {
      const config = configFrom(opts);
      const workers = await createWorkers({ config, secrets: readWorkerSecrets(config), workflowBundlePath: opts.bundle, verbose: opts.verbose === true, log: (m) => console.log(m) });
      await workers.run();
    });
}
