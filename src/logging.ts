/**
 * Structured worker logs: JSON lines through pino, each activity's start, finish and failure carrying the build id,
 * language and stage read from its input. Quiet by default so the demo's progress display stays readable:
 * info and up go to a file under the state dir, only errors reach stderr (retried activity failures are warnings, and
 * the SDK already reports them); verbose lowers both to debug.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';

export type { Logger } from 'pino';

/** Where logs go and how much. */
export interface LoggerOptions {
  /** Debug level everywhere (the `--verbose` flag). */
  verbose?: boolean;
  /** JSON-lines file; its folder is created. Without it only stderr is written. */
  file?: string;
}

/** The default log file of a worker: `<stateDir>/logs/worker.log`. */
export function workerLogFile(stateDir: string): string {
  return path.join(stateDir, 'logs', 'worker.log');
}

/** A pino logger writing `file` at info (debug when verbose) and stderr at error (debug when verbose). */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const fileLevel = opts.verbose ? 'debug' : 'info';
  const stderrLevel = opts.verbose ? 'debug' : 'error';
  const streams: pino.StreamEntry[] = [{ level: stderrLevel, stream: pino.destination({ fd: 2, sync: true }) }];
  if (opts.file) {
    mkdirSync(path.dirname(opts.file), { recursive: true });
    // sync: a SIGKILLed worker loses no line already logged.
    streams.push({ level: fileLevel, stream: pino.destination({ dest: opts.file, sync: true }) });
  }
  return pino({ level: opts.verbose ? 'debug' : 'info', base: { pid: process.pid } }, pino.multistream(streams));
}

/** Log tags of an activity call. */
export interface ActivityTags {
  buildId?: string;
  lang?: string;
  stage?: string;
}

/**
 * Build id, language and stage of an activity call: from its first argument when it names them, otherwise from the
 * calling workflow's id, which follows `<build>/<lang>/<stage>/<shard>` (src/names.ts).
 */
export function activityTags(args: readonly unknown[], workflowId?: string): ActivityTags {
  const [build, lang, stage] = (workflowId ?? '').split('/');
  const fromId: ActivityTags = { buildId: build || undefined, lang: lang || undefined, stage: stage || undefined };
  const first = typeof args[0] === 'object' && args[0] !== null ? (args[0] as Record<string, unknown>) : {};
  const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
  const tags: ActivityTags = {
    buildId: str(first.buildId) ?? fromId.buildId,
    lang: str(first.lang) ?? fromId.lang,
    stage: str(first.stage) ?? str(first.subset) ?? fromId.stage,
  };
  return Object.fromEntries(Object.entries(tags).filter(([, v]) => v !== undefined)) as ActivityTags;
}

/** Activity interceptor factory: logs start (debug), finish (info) and failure (warn) with duration and attempt. */
export function activityLogInterceptors(logger: Logger): ActivityInterceptorsFactory {
  return (ctx) => {
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input, next) {
        const { activityType, attempt, workflowExecution } = ctx.info;
        const workflowId = workflowExecution?.workflowId;
        const log = logger.child({ activity: activityType, attempt, workflowId, ...activityTags(input.args, workflowId) });
        const started = Date.now();
        log.debug('activity started');
        try {
          const result = await next(input);
          log.info({ ms: Date.now() - started }, 'activity finished');
          return result;
        } catch (err) {
          log.warn({ ms: Date.now() - started, err: err instanceof Error ? { name: err.name, message: err.message } : String(err) }, 'activity failed');
          throw err;
        }
      },
    };
    return { inbound };
  };
}
