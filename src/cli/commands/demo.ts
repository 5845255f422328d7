/** `ultralink demo` (= `npm start`): the whole pipeline, embedded, on the bundled sample or `--data DIR`. */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { readWorkerSecrets, resolveConfig } from '../../config';
import { runDemo } from '../../demo';
import { displayPricing, watchBuild } from '../build-progress';
import { renderLanguageSummary, summariseLanguages } from '../../core/export/build-summary';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the whole pipeline embedded (dev server, worker, local model, local storage) on the bundled sample')
    .option('-c, --config <file>', 'demo config (default: samples/demo.yaml)')
    .option('--data <dir>', 'a folder of real dumps and SFT files laid out like ../shared/data')
    .option('--langs <list>', 'comma-separated languages (default: all in the config)')
    .action(async (opts) => {
      const started = Date.now();
      let watcher: { stop(): Promise<void> } | undefined;
      const demo = await runDemo({
        configFile: opts.config,
        dataDir: opts.data,
        languages: opts.langs ? String(opts.langs).split(',') : undefined,
        secrets: readWorkerSecrets(resolveConfig({})),
        log: (m) => console.log(m),
        onStarted: ({ client, buildId, uiUrl, config }) => {
          console.log(`build ${buildId}\nUI    ${uiUrl}`);
          watcher = watchBuild(client, buildId, { pricing: displayPricing(config.llm) });
          // Ctrl-C cancels the build cleanly (finished outputs stay) instead of leaving it running in the DB.
          process.once('SIGINT', () => {
            console.log(`\ninterrupted: cancelling ${buildId}; finished work is kept (ultralink resume ${buildId} continues it)`);
            void client.workflow.getHandle(buildId).cancel().finally(() => process.exit(130));
          });
        },
      }).finally(() => watcher?.stop());
      console.log(`\nfinished in ${((Date.now() - started) / 1000).toFixed(0)} s`);
      console.log(`dataset: ${demo.datasetDir ?? demo.result.dataset.datasetPrefix}`);
      for (const [file, n] of Object.entries(demo.result.dataset.files)) console.log(`  ${file.padEnd(28)} ${n}`);
      const tables = demo.datasetDir ? path.join(demo.datasetDir, 'tables.md') : undefined;
      if (tables && existsSync(tables)) console.log(`\n${readFileSync(tables, 'utf8')}`);
      console.log('per language: records kept / asked, and why the rest were dropped');
      for (const line of renderLanguageSummary(summariseLanguages(demo.result.dataset.files, demo.result.stages))) console.log(`  ${line}`);
      const failures = demo.result.dataset.qualityFailures;
      console.log(failures.length === 0 ? 'quality: every file passes its thresholds' : `quality: ${failures.length} threshold(s) failed:\n  ${failures.join('\n  ')}`);
      // A file that was asked for and came out empty fails the demo, not a pass with a footnote.
      if (demo.result.dataset.emptyFiles.length > 0) {
        console.log(`FAILED: ${demo.result.dataset.emptyFiles.length} requested file(s) came out empty: ${demo.result.dataset.emptyFiles.join(', ')}`);
        process.exitCode = 1;
      }
    });
}
