/**
 * Bench: the cost of orchestration. Language-specific dialogues on a local Temporal dev server with the fake
 * OpenAI server at a fixed latency, on 1, 2 and 4 worker processes sharing one LLM concurrency, against the
 * ideal (concurrency ÷ latency) and against a plain single-process async loop doing the same work per dialogue
 * (per call: render, gateway with its cache, gates, store) through the same activity function, without Temporal.
 * Then a latency sweep finds where the dev server saturates, with the CPU of each process over the window.
 * It also measures what the capacity model (docs/capacity.md) needs: history events, payload bytes and
 * activities per dialogue, from the histories of a finished build.
 *
 *   npx tsx bench/multi-worker.ts [--dialogues=400] [--concurrency=64] [--latency=300] [--sweep=100,30] [--workers=1,2,4] [--db=file|memory] [--repeat=1]
 *
 * Each Temporal run at the main latency is followed at once by a plain-loop run over the same segments, and its
 * ratio is taken against that run: on a shared host throughput drifts by ±10% over minutes, so runs made apart
 * are not comparable. `--repeat=N` does the worker counts N times over and prints each count's ratios.
 *
 * Prints a table and writes bench/out/multi-worker.json. Throughput is taken over the LLM window of a build
 * (first chat request to last answer), so knowledge extraction and assembly, identical in both, are excluded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { Client, Connection } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../src/activities';
import { buildConfigKey } from '../src/names';
import type { DialogueOutcome } from '../src/activities/dialogue';
import { startBuild, waitForBuild } from '../src/client';
import { mergeConfigInput, resolveConfig, toolEnv, type Config, type ConfigInput } from '../src/config';
import { permutation } from '../src/core/agnostic/sample';
import { planFollowUps, type QuestionKind } from '../src/core/dialogue/plan';
import { ensureTemporalBinary, freePort, startDevServer } from '../src/devtools/temporal';
import { createBackend } from '../src/llm/backend';
import { createResponseCache } from '../src/llm/cache';
import { createGateway } from '../src/llm/gateway';
import { countPromptTokens } from '../src/llm/prompt-tokens';
import { createFsStorage } from '../src/storage/fs-storage';
import { buildWorkflowBundle } from '../src/worker';
import { FAKE_SENTENCES, startFakeOpenAi, type FakeOpenAi } from '../test/support/fake-openai';
import { TINY_THRESHOLDS } from '../test/support/tiny-data';

const REPO = path.resolve(__dirname, '..');
const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const DIALOGUES = Number(arg('dialogues', '400'));
const CONCURRENCY = Number(arg('concurrency', '64'));
const LATENCY = Number(arg('latency', '300'));
const SWEEP = arg('sweep', '100,30').split(',').filter(Boolean).map(Number);
const WORKER_COUNTS = arg('workers', '1,2,4').split(',').map(Number);
const SWEEP_WORKERS = Number(arg('sweep-workers', '2'));
/** `file`: SQLite on disk, as `ultralink server` runs it; `memory`: no disk writes (isolates the write path). */
const DB = arg('db', 'file');
const REPEAT = Math.max(1, Number(arg('repeat', '1')));
/** About three segments per tiny article; the margin covers drops and the quota's top-up draws. */
const ARTICLES = Math.ceil((DIALOGUES * 1.3) / 3);

interface Row {
  label: string;
  workers: number;
  concurrency: number;
  latencyMs: number;
  dialogues: number;
  calls: number;
  windowS: number;
  dialoguesPerS: number;
  callsPerS: number;
  ideal: number;
  /** Cores used over the LLM window, per process. */
  cpu: Record<string, number>;
  /** Dialogues/s of the plain loop run right after this one, over the same segments. */
  pairedPlain?: number;
}

/** Cumulative CPU seconds of a process (user + system) from /proc; 0 when it is gone. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ (100 on Linux)
  } catch {
    return 0;
  }
}

/** Samples the CPU of named processes every 250 ms, so any window can be read back afterwards. */
function cpuSampler(pids: Record<string, number>) {
  const samples: Array<{ t: number; cpu: Record<string, number> }> = [];
  const take = () => samples.push({ t: Date.now(), cpu: Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, pid === process.pid ? process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6 : cpuSeconds(pid)])) });
  take();
  const timer = setInterval(take, 250);
  return {
    stop() {
      clearInterval(timer);
      take();
    },
    /** Cores used per process between t0 and t1 (nearest samples). */
    cores(t0: number, t1: number): Record<string, number> {
      const near = (t: number) => samples.reduce((best, s) => (Math.abs(s.t - t) < Math.abs(best.t - t) ? s : best));
      const a = near(t0), b = near(t1);
      const dt = (b.t - a.t) / 1000;
      return Object.fromEntries(Object.keys(pids).map((k) => [k, dt > 0 ? (b.cpu[k]! - a.cpu[k]!) / dt : 0]));
    },
  };
}

/**
 * An English MediaWiki export of `articles` articles whose every paragraph carries a unique sentence, so no two
 * segments (hence no two prompts) are equal: the response cache never turns a twin's call into a hit.
 */
function writeUniqueDump(dir: string, articles: number): string {
  const bank = FAKE_SENTENCES.en;
  const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const pages: string[] = [];
  for (let a = 0; a < articles; a++) {
    const paragraphs = Array.from({ length: 6 }, (_, p) => {
      const body = Array.from({ length: 4 }, (_, k) => bank[(a * 7 + p * 3 + k) % bank.length]).join(' ');
      return `${body} This paragraph ${p + 1} of record ${a + 1} was written for the benchmark.`;
    });
    const text = `${paragraphs[0]}\n\n== Part ${a} ==\n${paragraphs.slice(1).join('\n\n')}\n\n[[Category:Bench]]`;
    pages.push(`<page><title>Record ${a + 1}</title><ns>0</ns><id>${a + 10}</id><revision><id>${(a + 10) * 10}</id><text xml:space="preserve">${esc(text)}</text></revision></page>`);
  }
  const file = path.join(dir, 'enwiki-bench.xml');
  writeFileSync(file, `<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" xml:lang="en">\n${pages.join('\n')}\n</mediawiki>\n`);
  return file;
}

/** The LLM window of the fake's log: first chat request to last answer. */
function llmWindow(fake: FakeOpenAi): { t0: number; t1: number; calls: number } {
  const chats = fake.log.filter((e) => e.path.endsWith('/chat/completions') && e.status === 200);
  const t0 = Math.min(...chats.map((e) => e.startedAt));
  const t1 = Math.max(...chats.map((e) => e.endedAt ?? e.startedAt));
  return { t0, t1, calls: chats.length };
}

/** The build config: one language, a tiny dump, `DIALOGUES` dialogues, small turns, the bench's LLM concurrency. */
function buildConfig(base: { dir: string; dump: string; address: string; llmUrl: string; seed: number; queues: string }): Config {
  const input = mergeConfigInput(TINY_THRESHOLDS, {
    seed: base.seed,
    stateDir: base.dir,
    languages: { en: { dump: base.dump, chatSpecific: DIALOGUES } },
    temporal: { address: base.address, llmTaskQueue: `llm-${base.queues}`, workTaskQueue: `work-${base.queues}` },
    llm: { baseUrl: base.llmUrl, model: 'fake-model', maxTokens: 256, timeoutMs: 30_000, concurrency: CONCURRENCY },
    retry: { initialIntervalMs: 200, maximumIntervalMs: 2_000, heartbeatTimeoutMs: 10_000 },
    dialogue: { maxTurns: 2 },
    storage: { kind: 'local', root: 'data' },
  } satisfies ConfigInput);
  return resolveConfig(input);
}

/** Starts `n` worker processes splitting the LLM concurrency; resolves once each is polling. */
async function startWorkers(config: Config, n: number, dir: string, bundlePath: string): Promise<ChildProcess[]> {
  const perWorker: Config = { ...config, llm: { ...config.llm, concurrency: Math.max(1, Math.round(CONCURRENCY / n)) } };
  const configPath = path.join(dir, `worker-${n}.yaml`);
  writeFileSync(configPath, stringify(perWorker));
  const children = Array.from({ length: n }, () =>
    spawn(process.execPath, [path.join(REPO, 'bin/ultralink.js'), 'worker', '-c', configPath, '--bundle', bundlePath], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ULTRALINK_LLM_API_KEY: 'bench' },
    }),
  );
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve, reject) => {
          let out = '';
          child.stdout!.on('data', (d: Buffer) => {
            out += d.toString();
            if (out.includes('worker polling')) resolve();
          });
          child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
          child.once('exit', (code) => reject(new Error(`worker exited (${code}) before polling:\n${out}`)));
        }),
    ),
  );
  return children;
}

async function stopWorkers(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
          setTimeout(() => c.kill('SIGKILL'), 15_000).unref();
        }),
    ),
  );
}

/** One Temporal build of `DIALOGUES` dialogues; returns its throughput row and build id. */
async function temporalRun(opts: { label: string; client: Client; config: Config; fake: FakeOpenAi; latencyMs: number; workers: number; pids: Record<string, number> }) {
  const { client, config, fake } = opts;
  fake.reset();
  fake.setFaults({ latencyMs: opts.latencyMs });
  const sampler = cpuSampler(opts.pids);
  const { buildId } = await startBuild(client, config);
  const result = await waitForBuild(client, buildId);
  sampler.stop();
  const w = llmWindow(fake);
  const kept = result.dataset.files['en_chat_specific.jsonl'] ?? 0;
  const windowS = (w.t1 - w.t0) / 1000;
  const row: Row = {
    label: opts.label,
    workers: opts.workers,
    concurrency: CONCURRENCY,
    latencyMs: opts.latencyMs,
    dialogues: kept,
    calls: w.calls,
    windowS,
    dialoguesPerS: kept / windowS,
    callsPerS: w.calls / windowS,
    ideal: CONCURRENCY / (opts.latencyMs / 1000),
    cpu: sampler.cores(w.t0, w.t1),
  };
  return { row, buildId, result };
}

/** The anchor: the same dialogues through the same activity functions, 64 lanes in one process, no Temporal. */
async function plainLoop(opts: { fake: FakeOpenAi; config: Config; segmentsKey: string; segments: number; latencyMs: number }): Promise<Row> {
  const { fake, config } = opts;
  const storage = createFsStorage(path.join(config.stateDir, 'data'));
  const buildId = `plain-${Date.now()}`;
  await storage.putIfAbsent(buildConfigKey(buildId), JSON.stringify(config));
  const backend = await createBackend(config, { llmApiKey: 'bench' }, path.join(toolEnv().cacheDir, 'models'));
  const gateway = createGateway({ backend, cache: createResponseCache(storage), contextWindow: config.llm.contextWindow, countPromptTokens });
  const acts = createActivities({ gateway, storage });
  const order = permutation(opts.segments, config.seed, 'draw', 'en/chat_specific');
  fake.reset();
  fake.setFaults({ latencyMs: opts.latencyMs });
  const sampler = cpuSampler({ 'bench (loop + fake LLM)': process.pid });
  let next = 0, kept = 0, inFlight = 0;
  // Same admission as the quota stage: never more dialogues in flight than could still be needed.
  // A fresh activity context per dialogue, as on a worker (its cancellation signal collects the calls' listeners).
  const env = { run: <A, R>(fn: (a: A) => Promise<R>, a: A) => new MockActivityEnvironment({ heartbeatTimeoutMs: 10_000 }).run(fn, a) as Promise<R> };
  const lane = async () => {
    while (kept + inFlight < DIALOGUES && next < opts.segments) {
      const segmentIndex = order(next++);
      inFlight++;
      const plan: QuestionKind[] = ['initial', ...planFollowUps(config.seed, `en:${segmentIndex}`, config.dialogue)];
      const r: DialogueOutcome = await env.run(acts.writeDialogue, { buildId, lang: 'en', segmentsKey: opts.segmentsKey, segmentIndex, plan });
      inFlight--;
      if (r.kept) kept++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  sampler.stop();
  await backend.close?.();
  const w = llmWindow(fake);
  const windowS = (w.t1 - w.t0) / 1000;
  return {
    label: 'plain async loop',
    workers: 0,
    concurrency: CONCURRENCY,
    latencyMs: opts.latencyMs,
    dialogues: kept,
    calls: w.calls,
    windowS,
    dialoguesPerS: kept / windowS,
    callsPerS: w.calls / windowS,
    ideal: CONCURRENCY / (opts.latencyMs / 1000),
    cpu: sampler.cores(w.t0, w.t1),
  };
}

/** History events, event types and payload bytes of every workflow of a build (children found via storage). */
async function historyCosts(client: Client, config: Config, buildId: string) {
  const storage = createFsStorage(path.join(config.stateDir, 'data'));
  const batchKeys = await storage.list(`builds/${buildId}/en/chat_specific/batches/`);
  const batchIds = batchKeys.map((k) => `${buildId}/en/chat_specific/${Number(path.basename(k, '.json'))}`);
  const groups: Record<string, string[]> = {
    build: [buildId, `${buildId}/en`],
    knowledge: [`${buildId}/en/knowledge`],
    quota_stage: [`${buildId}/en/chat_specific`],
    item_batches: batchIds,
  };
  const out: Record<string, { workflows: number; events: number; payloadBytes: number; historyBytes: number; byType: Record<string, number> }> = {};
  for (const [group, ids] of Object.entries(groups)) {
    const g = { workflows: 0, events: 0, payloadBytes: 0, historyBytes: 0, byType: {} as Record<string, number> };
    for (const id of ids) {
      const history = await client.workflow.getHandle(id).fetchHistory();
      g.workflows += 1;
      for (const event of history.events ?? []) {
        g.events += 1;
        const type = Object.keys(event).find((k) => k.endsWith('EventAttributes')) ?? 'unknown';
        g.byType[type] = (g.byType[type] ?? 0) + 1;
        g.payloadBytes += payloadBytes(event);
      }
      // What the server stores: the protobuf-encoded history (close to the JSON without field names).
      g.historyBytes += JSON.stringify(history).length;
    }
    out[group] = g;
  }
  return out;
}

/** Bytes of every Payload (data + metadata) inside an event. */
function payloadBytes(node: unknown): number {
  if (!node || typeof node !== 'object') return 0;
  if (node instanceof Uint8Array) return 0;
  const o = node as Record<string, unknown>;
  if (o.data instanceof Uint8Array && o.metadata && typeof o.metadata === 'object') {
    let n = o.data.length;
    for (const [k, v] of Object.entries(o.metadata as Record<string, unknown>)) n += k.length + (v instanceof Uint8Array ? v.length : 0);
    return n;
  }
  let sum = 0;
  for (const v of Object.values(o)) sum += payloadBytes(v);
  return sum;
}

function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

function printTable(rows: Row[]): void {
  const head = ['run', 'workers', 'conc', 'lat ms', 'dialogues', 'calls', 'window s', 'dlg/s', 'calls/s', 'ideal', '% ideal', '÷ plain', 'cores: server / workers / bench'];
  const lines = rows.map((r) => [
    r.label,
    String(r.workers || '-'),
    String(r.concurrency),
    String(r.latencyMs),
    String(r.dialogues),
    String(r.calls),
    fmt(r.windowS),
    fmt(r.dialoguesPerS, 2),
    fmt(r.callsPerS),
    fmt(r.ideal),
    `${fmt((100 * r.callsPerS) / r.ideal, 0)}%`,
    r.pairedPlain === undefined ? '-' : fmt(r.dialoguesPerS / r.pairedPlain, 2),
    cpuCell(r.cpu),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const show = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(show(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(show(l));
}

function cpuCell(cpu: Record<string, number>): string {
  const server = cpu['temporal server'];
  const workers = Object.entries(cpu).filter(([k]) => k.startsWith('worker')).map(([, v]) => v);
  const bench = Object.entries(cpu).find(([k]) => k.startsWith('bench'))?.[1];
  return `${server === undefined ? '-' : fmt(server, 2)} / ${workers.length ? workers.map((v) => fmt(v, 2)).join('+') : '-'} / ${bench === undefined ? '-' : fmt(bench, 2)}`;
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'ultralink-bench-'));
  const log = (m: string) => console.error(`[bench] ${m}`);
  const binary = ensureTemporalBinary(toolEnv().cacheDir, log);
  const port = await freePort();
  const server = await startDevServer({ binary, port, namespace: 'default', dbFile: DB === 'memory' ? undefined : path.join(scratch, 'temporal.sqlite'), logFile: path.join(scratch, 'temporal.log') });
  const fake = await startFakeOpenAi();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: 'default' });
  const rows: Row[] = [];
  let costs: Awaited<ReturnType<typeof historyCosts>> | undefined;
  let costBuild: { dialogues: number; calls: number } | undefined;
  try {
    log(`cpus: ${os.cpus().length}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; scratch ${scratch}`);
    const bundlePath = path.join(scratch, 'workflow-bundle.js');
    writeFileSync(bundlePath, (await buildWorkflowBundle()).code);
    const dump = writeUniqueDump(scratch, ARTICLES);
    let seed = 100;
    for (let rep = 0; rep < REPEAT; rep++) {
      for (const n of [...new Set([...WORKER_COUNTS, SWEEP.length && rep === 0 ? SWEEP_WORKERS : WORKER_COUNTS[0]!])]) {
        const dir = path.join(scratch, `r${rep}w${n}`);
        mkdirSync(dir, { recursive: true });
        const base = { dir, dump, address: server.address, llmUrl: fake.url, queues: `w${n}` };
        const workers = await startWorkers(buildConfig({ ...base, seed }), n, dir, bundlePath);
        const pids: Record<string, number> = { 'temporal server': server.process.pid!, 'bench (client + fake LLM)': process.pid };
        workers.forEach((w, i) => (pids[`worker ${i + 1}`] = w.pid!));
        try {
          const latencies = [...(WORKER_COUNTS.includes(n) ? [LATENCY] : []), ...(n === SWEEP_WORKERS && rep === 0 ? SWEEP : [])];
          for (const latencyMs of latencies) {
            const config = buildConfig({ ...base, seed: seed++ });
            log(`${n} worker(s), latency ${latencyMs} ms: building ${DIALOGUES} dialogues`);
            const { row, buildId } = await temporalRun({ label: `temporal, ${n} worker${n > 1 ? 's' : ''}`, client, config, fake, latencyMs, workers: n, pids });
            rows.push(row);
            if (latencyMs !== LATENCY) continue;
            if (costs === undefined) {
              costs = await historyCosts(client, config, buildId);
              costBuild = { dialogues: row.dialogues, calls: row.calls };
            }
            const manifestKey = `builds/${buildId}/en/segments/manifest.json`;
            const manifest = JSON.parse(readFileSync(path.join(dir, 'data', manifestKey), 'utf8')) as { total: number };
            log(`plain async loop, latency ${latencyMs} ms`);
            const plain = await plainLoop({ fake, config: buildConfig({ ...base, seed: seed++ }), segmentsKey: manifestKey, segments: manifest.total, latencyMs });
            row.pairedPlain = plain.dialoguesPerS;
            rows.push(plain);
          }
        } finally {
          await stopWorkers(workers);
        }
      }
    }
  } finally {
    await connection.close();
    await fake.stop();
    await server.stop();
    if (!process.env.ULTRALINK_KEEP_SCRATCH) rmSync(scratch, { recursive: true, force: true });
  }

  console.log(`\nmulti-worker bench (dev server SQLite: ${DB}): ${DIALOGUES} dialogues per run (maxTurns 2), LLM concurrency ${CONCURRENCY} split across workers, fake LLM latency fixed;`);
  console.log(`${os.cpus().length} cores (load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}). ideal = concurrency ÷ latency; ÷ plain = dialogues/s over the plain loop run right after, on the same segments.\n`);
  printTable(rows);
  const paired = new Map<string, number[]>();
  for (const r of rows) if (r.pairedPlain !== undefined) paired.set(r.label, [...(paired.get(r.label) ?? []), r.dialoguesPerS / r.pairedPlain]);
  console.log(`\n÷ paired plain loop, per worker count (${REPEAT} run${REPEAT > 1 ? 's' : ''} each):`);
  for (const [label, ratios] of paired) {
    const sorted = [...ratios].sort((a, b) => a - b);
    console.log(`  ${label.padEnd(20)} ${ratios.map((x) => fmt(x, 2)).join(' / ')}   median ${fmt(sorted[Math.floor(sorted.length / 2)]!, 2)}`);
  }
  if (costs && costBuild) {
    console.log(`\nhistory of the ${costBuild.dialogues}-dialogue build (${costBuild.calls} LLM calls):`);
    for (const [group, g] of Object.entries(costs)) {
      const activities = g.byType.activityTaskScheduledEventAttributes ?? 0;
      console.log(
        `  ${group.padEnd(13)} ${String(g.workflows).padStart(4)} workflows  ${String(g.events).padStart(7)} events  ${String(activities).padStart(6)} activities  ` +
          `${(g.payloadBytes / 1024).toFixed(0).padStart(6)} KiB payloads  ${(g.historyBytes / 1024).toFixed(0).padStart(6)} KiB history JSON`,
      );
    }
    const t = Object.values(costs).reduce((a, g) => ({ events: a.events + g.events, payload: a.payload + g.payloadBytes, json: a.json + g.historyBytes }), { events: 0, payload: 0, json: 0 });
    console.log(`  per dialogue: ${fmt(t.events / costBuild.dialogues)} events, ${fmt(t.payload / costBuild.dialogues, 0)} payload bytes, ${fmt(costBuild.calls / costBuild.dialogues, 2)} LLM calls`);
  }
  const outDir = path.join(REPO, 'bench', 'out');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, `multi-worker-${DB}.json`), JSON.stringify({ at: new Date().toISOString(), db: DB, cpus: os.cpus().length, loadavg: os.loadavg(), dialogues: DIALOGUES, concurrency: CONCURRENCY, rows, costs, costBuild }, null, 2));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
