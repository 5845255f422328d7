/** `ultralink bundle --out FILE`: prebuilds the workflow bundle, so production workers skip webpack at start. */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { buildWorkflowBundle } from '../../worker';

/** Registers `ultralink bundle`. */
export function registerBundle(program: Command): void {
  program
    .command('bundle')
    .description('write the prebuilt workflow bundle for `ultralink worker --bundle FILE` (done once, at image build)')
    .requiredOption('--out <file>', 'where to write the bundle (JavaScript)')
    .action(async (opts: { out: string }) => {
      const out = path.resolve(opts.out);
      const { code } = await buildWorkflowBundle();
      mkdirSync(path.dirname(out), { recursive: true });
      // Write-then-rename: a worker starting beside an interrupted build never reads half a bundle.
      writeFileSync(`${out}.tmp`, code);
      renameSync(`${out}.tmp`, out);
      console.log(`workflow bundle: ${out} (${(code.length / 1024).toFixed(0)} KiB)`);
    });
}
