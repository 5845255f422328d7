/**
 * A terminal progress bar for byte-driven work (dump extraction, uploads): items/s, MB/s and, when the total
 * size is known, percent and ETA. Redraws in a TTY; prints a line every few seconds otherwise (CI logs).
 */
import { SingleBar } from 'cli-progress';

/** One reading of the work done so far. */
export interface ProgressSample {
  /** Input bytes consumed. */
  bytes: number;
  /** Total input bytes, when known (enables percent and ETA). */
  totalBytes?: number;
  /** Items done (pages, records). */
  items: number;
}

/** A running bar: feed it samples, stop it once. */
export interface ProgressBar {
  update(sample: ProgressSample): void;
  stop(): void;
}

/** Formats seconds as `1h02m`, `3m05s` or `42s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** The text after the bar: rates since start, and percent/ETA when the total is known. */
export function progressLine(sample: ProgressSample, elapsedMs: number, itemName: string): string {
  const secs = Math.max(elapsedMs / 1000, 1e-3);
  const mb = sample.bytes / 1e6;
  const rate = `${(sample.items / secs).toFixed(1)} ${itemName}/s | ${(mb / secs).toFixed(2)} MB/s`;
  const done = `${sample.items} ${itemName} | ${mb.toFixed(1)}${sample.totalBytes ? `/${(sample.totalBytes / 1e6).toFixed(1)}` : ''} MB`;
  if (!sample.totalBytes) return `${done} | ${rate} | ${formatDuration(secs)}`;
  const pct = Math.min(100, (100 * sample.bytes) / sample.totalBytes);
  const eta = sample.bytes > 0 ? ((sample.totalBytes - sample.bytes) * secs) / sample.bytes : NaN;
  return `${pct.toFixed(0).padStart(3)}% | ${done} | ${rate} | ETA ${formatDuration(eta)}`;
}

/** Starts a bar labelled `label` counting `itemName` (e.g. 'pages'); output goes to stderr. */
export function createProgressBar(label: string, itemName: string, stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  const started = Date.now();
  let last: ProgressSample = { bytes: 0, items: 0 };
  const bar = new SingleBar({
    stream,
    noTTYOutput: true,
    notTTYSchedule: 5_000,
    hideCursor: true,
    barsize: 24,
    format: (options, params) => {
      const width = options.barsize ?? 24;
      const filled = last.totalBytes ? Math.round(params.progress * width) : 0;
      const gauge = last.totalBytes ? `${'█'.repeat(filled)}${'░'.repeat(width - filled)} ` : '';
      return `${label} ${gauge}${progressLine(last, Date.now() - started, itemName)}`;
    },
  });
  bar.start(1, 0);
  return {
    update(sample) {
      last = sample;
      bar.update(sample.totalBytes ? Math.min(1, sample.bytes / sample.totalBytes) : 0);
    },
    stop() {
      bar.stop();
    },
  };
}
