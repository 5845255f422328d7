/**
 * The one-command demo: everything embedded (dev server with SQLite, worker, local model, local storage)
 * runs the whole pipeline on the bundled sample or a folder of real data. Returns data; the CLI prints.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { ConfigError, mergeConfigInput, resolveConfig, stateDirOf, toolEnv, type Config, type ConfigInput, type WorkerSecrets } from './config';
import { connectClient, startBuild, uiUrlFor, waitForBuild } from './client';
import { ensureTemporalBinary, portOpen, startDevServer, type DevServer } from './devtools/temporal';
import { createWorkers } from './worker';
import type { BuildResult } from './workflows/build-dataset';

const REPO_ROOT = path.resolve(__dirname, '..');

/** The bundled sample's config. */
export const DEMO_CONFIG = path.join(REPO_ROOT, 'samples', 'demo.yaml');

export interface DemoOptions {
  /** Config file (default: samples/demo.yaml). */
  configFile?: string;
  /** A folder of real dumps and SFT files (e.g. ../shared/data) replacing the sample inputs. */
  dataDir?: string;
  /** Only these languages. */
  languages?: string[];
  /** Extra config (tests, CI's reduced demo). */
  overrides?: ConfigInput;
  secrets: WorkerSecrets;
  log: (msg: string) => void;
  /** Called once the build is started (progress display). */
  onStarted?: (info: { client: Client; buildId: string; uiUrl: string; config: Config }) => Promise<void> | void;
}

export interface DemoResult {
  buildId: string;
  uiUrl: string;
  datasetDir?: string;
  result: BuildResult;
  config: Config;
}

/** Runs the demo end to end and tears down what it started. */
export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const base = loadRawDemoConfig(opts.configFile ?? DEMO_CONFIG);
  let raw = opts.dataDir ? mergeConfigInput(base, realDataConfig(opts.dataDir)) : base;
  if (opts.overrides) raw = mergeConfigInput(raw, opts.overrides);
  if (opts.languages) {
    const all = (raw as ConfigInput).languages ?? {};
    raw = { ...(raw as object), languages: Object.fromEntries(opts.languages.map((l) => [l, all[l] ?? {}])) };
  }
  const config = resolveConfig(raw);
  const stateDir = stateDirOf(config);
  let server: DevServer | undefined;
  if (!(await portOpen(config.devServer.port))) {
    const binary = ensureTemporalBinary(toolEnv().cacheDir, opts.log);
    server = await startDevServer({
      binary,
      dbFile: path.join(stateDir, config.devServer.dbFile),
      port: config.devServer.port,
      uiPort: config.devServer.uiPort,
      namespace: config.temporal.namespace,
      logFile: path.join(stateDir, 'temporal.log'),
    });
    opts.log(`Temporal dev server started on ${server.address} (UI ${server.uiUrl})`);
  } else {
    opts.log(`using the Temporal server already on port ${config.devServer.port}`);
  }
  const workers = await createWorkers({ config, secrets: opts.secrets, log: opts.log });
  const running = workers.run();
  try {
    const client = await connectClient(config, opts.secrets);
    const { buildId } = await startBuild(client, config);
    const uiUrl = uiUrlFor(config, buildId);
    await opts.onStarted?.({ client, buildId, uiUrl, config });
    const result = await waitForBuild(client, buildId);
    const datasetDir = config.storage.kind === 'local' ? path.resolve(stateDir, config.storage.root, result.dataset.datasetPrefix) : undefined;
    return { buildId, uiUrl, datasetDir, result, config };
  } finally {
    workers.shutdown();
    await running;
    await server?.stop();
  }
}

function loadRawDemoConfig(file: string): ConfigInput {
  if (!existsSync(file)) throw new ConfigError(`demo config not found: ${file}`);
  // Paths in the sample config are relative to the repo root, wherever the demo is started from.
  // Bundled configs name bundled files relative to the repo root; a user's config, relative to where it is run.
  const bundled = path.resolve(file).startsWith(path.join(REPO_ROOT, 'samples') + path.sep);
  return rebasePaths(parseYaml(readFileSync(file, 'utf8')) as ConfigInput, bundled ? REPO_ROOT : process.cwd());
}

function rebasePaths(raw: ConfigInput, root: string): ConfigInput {
  const abs = (p: string) => (/^[a-z0-9]+:\/\//i.test(p) || path.isAbsolute(p) ? p : path.join(root, p));
  const languages = Object.fromEntries(
    Object.entries(raw.languages ?? {}).map(([l, e]) => {
      const entry = e as { dump?: string; dumpIndex?: string };
      return [l, { ...e, ...(entry.dump ? { dump: abs(entry.dump) } : {}), ...(entry.dumpIndex ? { dumpIndex: abs(entry.dumpIndex) } : {}) }];
    }),
  );
  const sources = raw.agnostic?.sources;
  const rebased = sources
    ? Object.fromEntries(Object.entries(sources).map(([k, files]) => [k, (files ?? []).map((f) => ({ ...f, path: abs(f.path) }))]))
    : undefined;
  return { ...raw, languages, ...(raw.agnostic ? { agnostic: { ...raw.agnostic, ...(rebased ? { sources: rebased } : {}) } } : {}) } as ConfigInput;
}

/** Inputs found in a real-data folder laid out like ../shared/data: wiki/<lang>/*.xml[.bz2], sft/*.json[l]. */
export function realDataConfig(dataDir: string): ConfigInput {
  const languages: Record<string, { dump: string }> = {};
  const wiki = path.join(dataDir, 'wiki');
  if (existsSync(wiki)) {
    for (const lang of readdirSync(wiki)) {
      const dir = path.join(wiki, lang);
      if (!statSync(dir).isDirectory() || !/^[a-z]{2,3}$/.test(lang)) continue;
      // The largest dump of a language has the most articles to ground dialogues in.
      const dumps = readdirSync(dir).filter((f) => /\.xml(\.bz2|\.gz|\.xz)?$/.test(f)).map((f) => path.join(dir, f));
      dumps.sort((a, b) => statSync(b).size - statSync(a).size);
      if (dumps[0]) languages[lang] = { dump: dumps[0] };
    }
  }
  const sft = path.join(dataDir, 'sft');
  const chat = existsSync(sft) ? readdirSync(sft).filter((f) => /sharegpt/i.test(f) && /\.jsonl?$/.test(f)).map((f) => ({ path: path.join(sft, f), format: 'sharegpt' as const })) : [];
  return { languages, ...(chat.length > 0 ? { agnostic: { sources: { chat } } } : {}) } as ConfigInput;
}
