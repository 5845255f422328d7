/** `ultralink doctor`: checks Temporal, the LLM endpoint and storage; exits non-zero naming what is missing. */
import type { Command } from 'commander';
import { readWorkerSecrets } from '../../config';
import { runChecks } from '../../doctor';
import { configFrom, withConfig } from '../common';
import { localModelCached } from '../../llm/model-cache';

export function registerDoctor(program: Command): void {
  withConfig(program.command('doctor').description('check that Temporal, the LLM endpoint and storage are usable')).action(async (opts) => {
    const config = configFrom(opts);
    const checks = await runChecks(config, readWorkerSecrets(config), () => localModelCached(config));
    for (const c of checks) {
      console.log(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(8)} ${c.detail}`);
      if (!c.ok && c.fix) console.log(`      fix: ${c.fix}`);
    }
    if (checks.some((c) => !c.ok)) process.exitCode = 1;
  });
}
