/** `ultralink export DIR --format sharegpt|messages`: the dataset in a training framework's format. */
import type { Command } from 'commander';
import { EXPORT_FORMATS, type ExportFormat } from '../../core/export/formats';
import { formatCount, renderTable } from '../../core/export/stats';
import { exportDataset } from '../../dataset/report';
import { describeSource, listDatasetFiles } from '../../dataset/read';
import { besideDataset, datasetLocation, firstTurnSplitter } from './stats';

/** Registers `export`. */
export function registerExport(program: Command): void {
  program
    .command('export <dataset>')
    .description('write the dataset (dir or s3:// URI) as ShareGPT conversations or OpenAI-style messages')
    .requiredOption('--format <format>', `one of ${EXPORT_FORMATS.join(', ')}`)
    .option('--document-as-system', 'put the grounding document of chat_specific dialogues in a system turn instead of the first question')
    .option('--out <dir>', 'output dir or s3:// URI (default: export-<format> inside the dataset folder)')
    .action(async (dataset: string, opts: { format: string; documentAsSystem?: boolean; out?: string }) => {
      if (!(EXPORT_FORMATS as readonly string[]).includes(opts.format)) throw new Error(`unknown format '${opts.format}': use one of ${EXPORT_FORMATS.join(', ')}`);
      const format = opts.format as ExportFormat;
      const source = datasetLocation(dataset);
      if ((await listDatasetFiles(source)).length === 0) throw new Error(`no {lang}_{subset}.jsonl files in ${describeSource(source)}`);
      const target = opts.out ? datasetLocation(opts.out) : besideDataset(source, `export-${format}${opts.documentAsSystem ? '-system' : ''}`);
      const split = opts.documentAsSystem ? await firstTurnSplitter(source) : undefined;
      const results = await exportDataset(source, target, { format, documentAsSystem: opts.documentAsSystem, split });
      const rows = results.map((r) => [r.file, formatCount(r.dialogues), formatCount(r.turns), formatCount(r.documentsMoved), formatCount(r.malformed)]);
      console.log(renderTable(['File', 'Dialogues', 'Turns', 'Documents to system', 'Malformed skipped'], rows, ['left', 'right', 'right', 'right', 'right']));
      console.log(`Wrote ${results.length} ${format} file(s) to ${describeSource(target)}`);
    });
}
