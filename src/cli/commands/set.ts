/** `ultralink set ID --rate R --concurrency C --budget X`: changes a running build's LLM rate, concurrency or budget. */
import type { Command } from 'commander';
import { setBuild } from '../../client';
import { clientFor, configFrom, withConfig } from '../common';

function positive(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${v}`);
    return n;
  };
}

export function registerSet(program: Command): void {
  withConfig(
    program
      .command('set <id>')
      .description('change a running build: fleet-wide LLM rate, per-stage LLM concurrency, budget')
      .option('--rate <perSecond>', 'LLM activity starts per second across all workers (task-queue rate limit; a dialogue is one activity)', positive('rate'))
      .option('--concurrency <n>', 'LLM calls in flight per stage across all workers (control.concurrency); running items finish their calls', positive('concurrency'))
      .option('--budget <usd>', 'estimated spend at which the build pauses; raising it resumes a budget pause', positive('budget')),
  ).action(async (id: string, opts: { config?: string; rate?: number; concurrency?: number; budget?: number }) => {
    if (opts.rate === undefined && opts.concurrency === undefined && opts.budget === undefined) throw new Error('nothing to set: give --rate, --concurrency or --budget');
    const config = configFrom(opts);
    const c = await setBuild(await clientFor(config), id, { rate: opts.rate, concurrency: opts.concurrency, budget: opts.budget });
    const budget = c.budgetUsd === undefined ? 'no budget' : `budget $${c.budgetUsd}`;
    console.log(`${id}: ${c.state}${opts.rate !== undefined ? ` · rate ${opts.rate}/s` : ''}${c.concurrency !== undefined ? ` · concurrency ${c.concurrency}` : ''} · spent ~$${c.spentUsd.toFixed(4)} of ${budget}`);
  });
}
