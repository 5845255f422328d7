/** `ultralink stats DIR|S3-URI`: prints Tables 1–2 and writes Figure 13 with the other report files. */
import type { Command } from 'commander';
import { templateSplitter, type DocumentSplitter } from '../../core/export/formats';
import { computeDatasetReport, REPORT_FILES, writeDatasetReport, type OutputTarget } from '../../dataset/report';
import { describeSource, listDatasetFiles, type DatasetSource } from '../../dataset/read';
import { loadDialoguePack } from '../../prompts/load';
import { createStorage, parseStorageUri } from '../../storage/index';
import { configFrom, withConfig } from '../common';

/** A dataset location from a CLI argument: a directory path, `file:///dir` or `s3://bucket/prefix[?endpoint=…]`. */
export function datasetLocation(uri: string): DatasetSource & OutputTarget {
  const parsed = parseStorageUri(uri);
  if (parsed.kind === 'local') return parsed.root;
  // the URI's prefix becomes the storage's own root, so dataset names are read directly under it
  return { storage: createStorage(parsed, { stateDir: process.cwd() }), prefix: '' };
}

/** A place beside the dataset: `name` under its directory or prefix. */
export function besideDataset(source: DatasetSource, name: string): OutputTarget {
  return typeof source === 'string' ? `${source.replace(/\/+$/, '')}/${name}` : { storage: source.storage, prefix: source.prefix ? `${source.prefix}/${name}` : name };
}

/**
 * Splits chat_specific first turns by the first-turn framing of each language's dialogue pack; used only for
 * lines the sidecar does not cover. Undefined when no dataset language has a pack.
 */
export async function firstTurnSplitter(source: DatasetSource): Promise<DocumentSplitter | undefined> {
  const templates: Record<string, string> = {};
  for (const ref of await listDatasetFiles(source)) {
    if (ref.subset !== 'chat_specific') continue;
    try {
      templates[ref.lang] = loadDialoguePack(ref.lang).firstTurnFraming;
    } catch {
      // a language without a pack here: its lines rely on the sidecar alone
    }
  }
  return Object.keys(templates).length ? templateSplitter(templates) : undefined;
}

/** Registers `stats`. */
export function registerStats(program: Command): void {
  withConfig(program.command('stats <dataset>').description('print Tables 1-2 of a dataset (dir or s3:// URI) and write Figure 13, stats and the quality report'))
    .option('--out <dir>', 'where the report files go (dir or s3:// URI; default: the dataset folder)')
    .option('--fail-on-quality', 'exit 1 when a file breaks a quality threshold')
    .action(async (dataset: string, opts: { config?: string; out?: string; failOnQuality?: boolean }) => {
      const config = configFrom(opts);
      const source = datasetLocation(dataset);
      const files = await listDatasetFiles(source);
      if (files.length === 0) throw new Error(`no {lang}_{subset}.jsonl files in ${describeSource(source)}`);
      const split = await firstTurnSplitter(source);
      const report = await computeDatasetReport(source, { quality: config.quality, stripDocument: split && ((turn, lang) => split(turn, lang)?.question ?? turn) });
      const target = opts.out ? datasetLocation(opts.out) : source;
      await writeDatasetReport(report, target);

      console.log(report.tables.text.trimEnd());
      console.log('');
      const malformed = Object.entries(report.malformed).filter(([, n]) => n > 0);
      for (const [file, n] of malformed) console.log(`skipped ${n} malformed line(s) in ${file}`);
      const failures = report.quality.failures;
      if (failures.length === 0) console.log(`Quality: all ${files.length} files pass the thresholds.`);
      else {
        console.log(`Quality: ${new Set(failures.map((f) => f.file)).size} of ${files.length} files break a threshold:`);
        for (const f of failures) console.log(`  ${f.file}: ${f.threshold} ${f.value} (limit ${f.limit})`);
      }
      console.log(`Wrote ${REPORT_FILES.join(', ')} to ${describeSource(target)}`);
      if (failures.length > 0 && opts.failOnQuality) process.exitCode = 1;
    });
}
