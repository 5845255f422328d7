/**
 * Knowledge extraction speed, side by side on the same file and cores, in one run (issue 9's benchmark):
 *
 *   npx tsx bench/extract.ts [dump.xml.bz2]          (default: the shared enwiki excerpt, 6.1 MB of XML)
 *
 * - ours, plain: readSelectedPages + prepareDocument in a child process (bench/extract-plain.ts), no Temporal;
 * - ours, Temporal: a dev server + an in-process worker running knowledgeWorkflow (child process);
 * - wikiextractor `--no-templates --json --processes 1` (venv at .ultralink/cache/venv, created when absent);
 * - `bzip2 -dc > /dev/null`, the single-thread ceiling.
 * Every contender runs under /usr/bin/time -v: CPU seconds (user + sys, children included) give the per-core
 * rates, which stay meaningful on a machine shared with other jobs; wall seconds are shown beside them.
 * Then, on the excerpt's pages repeated to ≥ 30 MB of XML: the multistream speed-up with 1 vs 2 range groups in
 * parallel (a multistream file + index built from it, 100 pages per stream), peak RSS of the plain pipeline on
 * ~1 MB vs ≥ 30 MB of XML, and language id on a capped prefix vs the whole text.
 * `--profile` adds a `node --cpu-prof` run of the plain pipeline and prints the top self-time functions.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { LANG_ID_CHARS } from '../src/activities/knowledge';
import { Client, Connection } from '@temporalio/client';
import { resolveConfig, toolEnv, type Config } from '../src/config';
import { ensureTemporalBinary, freePort, startDevServer } from '../src/devtools/temporal';
import { buildWorkflowBundle, createWorkers } from '../src/worker';
import { loadLangId } from '../src/core/text/lang-id';
import { cleanWikitext } from '../src/core/wiki/wikitext';
import { groupRanges, streamRanges } from '../src/core/wiki/multistream-index';
import { readSelectedPages, readStreamOffsets } from '../src/io/dump-source';

const ROOT = path.resolve(__dirname, '..');
const SHARED = path.resolve(ROOT, '..', 'shared', 'data', 'wiki');
const EN = path.join(SHARED, 'en', 'enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2');
const PLAIN = path.join(__dirname, 'extract-plain.ts');
const VENV = path.join(ROOT, '.ultralink', 'cache', 'venv');
const PYTHON = path.join(VENV, 'bin', 'python');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
/** Old-space cap of the RSS check's capped run: above the pipeline's live set, below what V8 grows to uncapped. */
const HEAP_CAP_MB = 160;

interface Timed { wall: number; cpu: number; rssMb: number; stdout: string }

/** Runs a command under /usr/bin/time -v: wall and CPU seconds (children included) and peak RSS. */
function timed(cmd: string, args: string[], opts: { stdoutFile?: string; env?: NodeJS.ProcessEnv } = {}): Timed {
  const started = performance.now();
  const shell = `exec /usr/bin/time -v ${[cmd, ...args].map(q).join(' ')}${opts.stdoutFile ? ` > ${q(opts.stdoutFile)}` : ''}`;
  const r = spawnSync('bash', ['-c', shell], { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, ...opts.env } });
  const wall = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const num = (label: string) => Number(new RegExp(`${label}[^:]*: ([\\d.]+)`).exec(r.stderr)?.[1] ?? NaN);
  return { wall, cpu: num('User time') + num('System time'), rssMb: num('Maximum resident set size') / 1024, stdout: r.stdout };
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function xmlBytes(file: string): number {
  return file.endsWith('.bz2') ? Number(execFileSync('bash', ['-c', `bzip2 -dc ${q(file)} | wc -c`]).toString().trim()) : statSync(file).size;
}

// ---- child modes -------------------------------------------------------------------------------------------

function benchConfig(lang: string, dump?: string, index?: string, groups = 8): Config {
  return resolveConfig({ languages: { [lang]: { dump, dumpIndex: index } }, knowledge: { rangeGroups: groups } });
}

/** knowledgeWorkflow on the dev server at `address` with an in-process worker; prints the result counts. */
async function temporalMode(file: string, lang: string, address: string, bundle: string): Promise<void> {
  const suffix = Math.random().toString(36).slice(2, 8);
  const base = benchConfig(lang, file);
  const stateDir = mkdtempSync(path.join(tmpdir(), 'bench-extract-state-'));
  const config = resolveConfig({ ...base, stateDir, temporal: { ...base.temporal, address, workTaskQueue: `bench-work-${suffix}`, llmTaskQueue: `bench-llm-${suffix}` } });
  const backend = { model: 'none', chat: () => Promise.reject(new Error('no LLM')), listModels: () => Promise.resolve([]) };
  const workers = await createWorkers({ config, secrets: {}, backend, workflowBundlePath: bundle });
  const running = workers.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  try {
    const buildId = `bench-${suffix}`;
    const result = await client.workflow.execute('knowledgeWorkflow', { workflowId: `${buildId}/${lang}/knowledge`, taskQueue: config.temporal.workTaskQueue, args: [{ buildId, lang, config }] });
    console.log(JSON.stringify({ pages: result.pagesRead, segments: result.segments }));
  } finally {
    workers.shutdown();
    await running;
    await connection.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

// ---- the benchmark -----------------------------------------------------------------------------------------

function ensureWikiextractor(): boolean {
  if (existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import wikiextractor'], { stdio: 'ignore' }).status === 0) return true;
  console.error('creating the wikiextractor venv (python3 -m venv; pip install wikiextractor)…');
  if (spawnSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' }).status !== 0) return false;
  return spawnSync(path.join(VENV, 'bin', 'pip'), ['install', '-q', 'wikiextractor'], { stdio: 'inherit' }).status === 0;
}

/** The decompressed enwiki excerpt, written once into `dir`. */
function EN_XML(dir: string): string {
  const file = path.join(dir, 'enwiki.xml');
  if (!existsSync(file)) writeFileSync(file, execFileSync('bzip2', ['-dc', EN], { maxBuffer: 1 << 28 }));
  return file;
}

/** Head, `<page>` elements and tail of a MediaWiki export. */
function splitPages(xml: string): { head: string; pages: string[]; tail: string } {
  const first = xml.indexOf('<page>');
  const end = xml.lastIndexOf('</page>') + '</page>'.length;
  const pages = xml.slice(first, end).split(/(?<=<\/page>)\s*/).filter((p) => p.includes('<page>'));
  return { head: xml.slice(0, first), pages, tail: xml.slice(end) };
}

/** The export cut after its first pages that fit in `maxBytes` (at least one). */
function firstPages(xml: string, maxBytes: number): string {
  const { head, pages, tail } = splitPages(xml);
  const kept: string[] = [];
  let size = Buffer.byteLength(head) + Buffer.byteLength(tail);
  for (const p of pages) {
    size += Buffer.byteLength(p);
    if (kept.length > 0 && size > maxBytes) break;
    kept.push(p);
  }
  return head + kept.join('\n') + tail;
}

/** The excerpt's pages repeated under new (ascending) ids until the XML reaches `minBytes`. */
function bigXml(file: string, minBytes: number): string {
  const xml = execFileSync('bzip2', ['-dc', file], { maxBuffer: 1 << 28 }).toString('utf8');
  const { head, pages, tail } = splitPages(xml);
  const copies: string[] = [];
  for (let k = 0; Buffer.byteLength(xml) * k < minBytes; k++) {
    copies.push(...pages.map((p) => p.replace(/<id>(\d+)<\/id>/, (_m, id: string) => `<id>${Number(id) + k * 10_000_000}</id>`)));
  }
  return head + copies.join('\n') + tail;
}

/** A multistream bz2 (header stream, `per` pages per stream, footer stream) and its `offset:id:title` index. */
function writeMultistream(xml: string, per: number, file: string, indexFile: string): void {
  const { head, pages, tail } = splitPages(xml);
  const groups: string[][] = [];
  for (let i = 0; i < pages.length; i += per) groups.push(pages.slice(i, i + per));
  const streams = [head, ...groups.map((g) => g.join('\n')), tail].map((p) => execFileSync('bzip2', ['-c'], { input: Buffer.from(p, 'utf8'), maxBuffer: 1 << 28 }));
  const lines: string[] = [];
  let at = streams[0].length;
  groups.forEach((g, k) => {
    for (const p of g) lines.push(`${at}:${/<id>(\d+)<\/id>/.exec(p)![1]}:${/<title>([^<]*)<\/title>/.exec(p)![1]}`);
    at += streams[k + 1].length;
  });
  writeFileSync(file, Buffer.concat(streams));
  writeFileSync(indexFile, lines.join('\n') + '\n');
}

/** Real dumps hold 100 pages per stream over millions of pages; 20 keeps this ~1,000-page file in ~50 streams. */
const PAGES_PER_STREAM = 20;

/**
 * Speed-up with cores on multistream input: one range group on one core vs two groups in parallel, each on its
 * own core (taskset pins each process tree: the pipeline and its bzip2 child share their core), as two
 * single-core workers would run them. Also net of the per-process start-up, which a long-running worker pays once.
 */
async function multistreamSpeedup(xml: string, tmp: string, startup: Timed): Promise<void> {
  const file = path.join(tmp, 'enwiki-multistream.xml.bz2');
  const indexFile = path.join(tmp, 'enwiki-multistream-index.txt');
  writeMultistream(xml, PAGES_PER_STREAM, file, indexFile);
  const offsets = await readStreamOffsets(indexFile);
  const size = statSync(file).size;
  const cores = Math.min(2, cpus().length);
  const pinned = (core: number, args: string[]) => timedAsync('taskset', ['-c', String(core), TSX, ...args]);
  const one = await pinned(0, [PLAIN, file, 'en', '0', String(size)]);
  const groups = groupRanges(streamRanges(offsets, size), cores);
  const started = performance.now();
  const runs = await Promise.all(groups.map((g, k) => pinned(k % cores, [PLAIN, file, 'en', String(g.start), String(g.end)])));
  const twoWall = (performance.now() - started) / 1000;
  const pagesOf = (t: Timed) => (JSON.parse(t.stdout.trim().split('\n').pop()!) as { pages: number }).pages;
  const net = (wall: number) => Math.max(1e-3, wall - startup.wall);
  console.log(`\nmultistream (${offsets.length} streams of ${PAGES_PER_STREAM} pages, ${f(Buffer.byteLength(xml) / 1e6, 1)} MB XML): 1 group on 1 core ${f(one.wall, 1)} s wall (${pagesOf(one)} pages); ${groups.length} groups on ${cores} cores ${f(twoWall, 1)} s wall (${runs.map(pagesOf).join(' + ')} pages); speed-up ${f(one.wall / twoWall)}×, net of the ${f(startup.wall, 1)} s process start-up ${f(net(one.wall) / net(twoWall))}× (CPU ${f(one.cpu)} s vs ${runs.map((r) => f(r.cpu)).join(' + ')} s)`);
}

/** {@link timed} without blocking the event loop, so several can run at once. */
function timedAsync(cmd: string, args: string[]): Promise<Timed> {
  return new Promise<Timed>((resolve, reject) => {
    const started = performance.now();
    const child = spawn('bash', ['-c', `exec /usr/bin/time -v ${[cmd, ...args].map(q).join(' ')}`]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${stderr.slice(-2000)}`));
      const num = (label: string) => Number(new RegExp(`${label}[^:]*: ([\\d.]+)`).exec(stderr)?.[1] ?? NaN);
      resolve({ wall: (performance.now() - started) / 1000, cpu: num('User time') + num('System time'), rssMb: num('Maximum resident set size') / 1024, stdout });
    });
  });
}

const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '–');

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r, i) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ') + (i === 0 ? `\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : '')).join('\n');
}

async function main(): Promise<void> {
  const file = path.resolve(process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : EN);
  const lang = 'en';
  const self = __filename;
  const tmp = mkdtempSync(path.join(tmpdir(), 'bench-extract-'));
  try {
    const bytes = xmlBytes(file);
    const mb = bytes / 1e6;
    console.log(`input ${path.basename(file)}: ${f(mb)} MB of XML, ${f(statSync(file).size / 1e6)} MB compressed; load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} on ${cpus().length} cores\n`);

    const rows: string[][] = [['contender', 'pages', 'wall s', 'CPU s', 'pages/CPU-s', 'XML MB/CPU-s', 'vs wikiextractor', 'vs bzip2']];
    const ceiling = timed('bzip2', ['-dc', file], { stdoutFile: '/dev/null' });
    const plain = timed(TSX, [PLAIN, file, lang]);
    const cleanOnly = timed(TSX, [PLAIN, file, lang, '--clean-only']);
    // Fixed cost (node + tsx start, lid.176 and cl100k loading) on an 11 kB page, for the steady-state rates.
    const TINY = path.join(SHARED, 'fr', 'frwiki-20121230-id3.xml');
    const startup = timed(TSX, [PLAIN, TINY, 'fr']);
    const plainOut = JSON.parse(plain.stdout.trim().split('\n').pop()!) as { pages: number; segments: number; stepMs: Record<string, number> };

    const server = await startDevServer({ binary: ensureTemporalBinary(toolEnv().cacheDir), port: await freePort(), namespace: 'default', dbFile: path.join(tmp, 'temporal.sqlite'), logFile: path.join(tmp, 'temporal.log') });
    let viaTemporal: Timed;
    try {
      const bundle = path.join(tmp, 'workflow-bundle.js');
      writeFileSync(bundle, (await buildWorkflowBundle()).code);
      viaTemporal = timed(TSX, [self, '--temporal', file, lang, server.address, bundle]);
    } finally {
      await server.stop();
    }
    const temporalOut = JSON.parse(viaTemporal.stdout.trim().split('\n').pop()!) as { pages: number; segments: number };

    let wx: Timed | undefined;
    let wxPages = NaN;
    if (ensureWikiextractor()) {
      wx = timed(PYTHON, ['-m', 'wikiextractor.WikiExtractor', '--no-templates', '--json', '--processes', '1', '-q', '-o', '-', file]);
      wxPages = wx.stdout.split('\n').filter((l) => l.trim().length > 0).length;
    }
    const perCore = (t: Timed) => mb / t.cpu;
    const wxRate = wx ? perCore(wx) : NaN;
    const row = (name: string, pages: number, t: Timed) => [name, String(pages), f(t.wall, 1), f(t.cpu, 2), f(pages / t.cpu, 1), f(perCore(t)), `${f(perCore(t) / wxRate)}×`, `${f((100 * perCore(t)) / perCore(ceiling), 0)}%`];
    rows.push(row('ours, plain pipeline', plainOut.pages, plain));
    rows.push(row('ours, through Temporal', temporalOut.pages, viaTemporal));
    rows.push(row("ours, select + clean only (wikiextractor's job)", plainOut.pages, cleanOnly));
    if (wx) rows.push(row(`wikiextractor (${wxPages} articles out)`, plainOut.pages, wx));
    rows.push(row('bzip2 -dc > /dev/null', plainOut.pages, ceiling));
    console.log(table(rows));
    const wxStart = wx ? timed(PYTHON, ['-m', 'wikiextractor.WikiExtractor', '--no-templates', '--json', '--processes', '1', '-q', '-o', '-', TINY]) : undefined;
    const net = (t: Timed, s0: Timed | undefined) => mb / Math.max(1e-3, t.cpu - (s0?.cpu ?? 0));
    console.log(`\nsteady state (minus start-up CPU on an 11 kB page: ours ${f(startup.cpu)} s${wxStart ? `, wikiextractor ${f(wxStart.cpu)} s` : ''}): ours ${f(net(plain, startup))} XML MB/CPU-s${wx && wxStart ? `, wikiextractor ${f(net(wx, wxStart))}, ratio ${f(net(plain, startup) / net(wx, wxStart))}×` : ''}, bzip2 ceiling ${f(perCore(ceiling))} (${f((100 * net(plain, startup)) / perCore(ceiling), 0)}%)`);
    console.log(`steady state, select + clean only: ours ${f(net(cleanOnly, startup))} XML MB/CPU-s${wx && wxStart ? `, ratio ${f(net(cleanOnly, startup) / net(wx, wxStart))}× wikiextractor` : ''} (${f((100 * net(cleanOnly, startup)) / perCore(ceiling), 0)}% of bzip2)`);
    // The floor: decoding plus the two steps the paper asks of every document (language id, token count), with
    // no XML parsing, cleaning or segmenting at all. The targets' CPU budgets are set against it.
    const floorOut = JSON.parse(timed(TSX, [PLAIN, file, lang, '--floor']).stdout.trim().split('\n').pop()!) as { docs: number; chars: number; lidMs: number; countMs: number };
    const floorCpu = ceiling.cpu + (floorOut.lidMs + floorOut.countMs) / 1000;
    const wxSteadyCpu = wx && wxStart ? Math.max(1e-3, wx.cpu - wxStart.cpu) : NaN;
    const budget = (targetCpu: number) => `${f(targetCpu)} s, of which ${f(targetCpu - floorCpu)} s left for parsing, cleaning and segmenting`;
    console.log(`floor (bzip2 ${f(ceiling.cpu)} s + lid.176 ${f(floorOut.lidMs / 1000)} s + cl100k count ${f(floorOut.countMs / 1000)} s over ${floorOut.docs} cleaned pages, ${f(floorOut.chars / 1e6)} M chars): ${f(mb / floorCpu)} XML MB/CPU-s = ${f((100 * ceiling.cpu) / floorCpu, 0)}% of bzip2${wx && wxStart ? `, ${f(wxSteadyCpu / floorCpu)}× wikiextractor` : ''}`);
    console.log(`CPU budget for this file: ≥ 70% of bzip2 → ${budget(ceiling.cpu / 0.7)}${wx && wxStart ? `; ≥ 5× wikiextractor → ${budget(wxSteadyCpu / 5)}` : ''}; ours spends ${f(plain.cpu - startup.cpu - floorCpu)} s on them`);
    console.log(`\nours: ${plainOut.segments} segments (Temporal run: ${temporalOut.segments}); step ms in the plain run: ${JSON.stringify(plainOut.stepMs)}`);
    console.log('per core = XML MB ÷ CPU seconds (user+sys, decoder child included); the Temporal row includes worker start-up and lid.176 loading.');

    // Multistream and memory, on the excerpt's pages repeated to ≥ 30 MB of XML (a size where start-up is minor).
    const big = bigXml(EN, 30e6);
    await multistreamSpeedup(big, tmp, startup);
    const small = path.join(tmp, 'enwiki-1mb.xml');
    writeFileSync(small, firstPages(readFileSync(EN_XML(tmp), 'utf8'), 1e6));
    const bigFile = path.join(tmp, 'enwiki-repeated.xml.bz2');
    writeFileSync(bigFile, execFileSync('bzip2', ['-c'], { input: Buffer.from(big), maxBuffer: 1 << 28 }));
    const smallRun = timed(TSX, [PLAIN, small, 'en']);
    const largeRun = timed(TSX, [PLAIN, bigFile, 'en']);
    console.log(`peak RSS of the plain pipeline: ${f(statSync(small).size / 1e6)} MB XML → ${f(smallRun.rssMb, 0)} MB; ${f(Buffer.byteLength(big) / 1e6, 1)} MB XML → ${f(largeRun.rssMb, 0)} MB (${f((100 * (largeRun.rssMb - smallRun.rssMb)) / smallRun.rssMb, 0)}%)`);
    // V8 lets its old space grow lazily while garbage accumulates, so uncapped RSS rises with run length even when
    // the live set does not. The same run under a heap cap shows the live set: if it were growing, it would fail.
    const capped = timed(TSX, [PLAIN, bigFile, 'en'], { env: { NODE_OPTIONS: `--max-old-space-size=${HEAP_CAP_MB}` } });
    console.log(`  under --max-old-space-size=${HEAP_CAP_MB}: ${f(Buffer.byteLength(big) / 1e6, 1)} MB XML → ${f(capped.rssMb, 0)} MB (${f((100 * (capped.rssMb - smallRun.rssMb)) / smallRun.rssMb, 0)}% over the 1 MB run), CPU ${f(capped.cpu)} s vs ${f(largeRun.cpu)} s uncapped`);

    // Language id on a capped prefix vs the whole text: same verdicts on every shared dump?
    await langIdAgreement();

    if (process.argv.includes('--profile')) profile(file, lang, tmp);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** lid.176 on the first LANG_ID_CHARS characters vs the whole cleaned text, over every ns0 page of the shared dumps. */
async function langIdAgreement(): Promise<void> {
  const langId = await loadLangId();
  let pages = 0;
  let same = 0;
  let fullMs = 0;
  let capMs = 0;
  const differ: string[] = [];
  for (const lang of ['en', 'zh', 'ru', 'fr', 'es']) {
    const dir = path.join(SHARED, lang);
    if (!existsSync(dir)) continue;
    const label = benchConfig(lang).languages[lang]!.fasttextLabel;
    for (const name of readdirSync(dir)) {
      for await (const ev of readSelectedPages(path.join(dir, name), { lang })) {
        if (ev.kind !== 'page') continue;
        const cleaned = cleanWikitext(ev.page.text);
        if (!cleaned.ok || cleaned.text.length === 0) continue;
        let t = performance.now();
        const full = langId.detect(cleaned.text);
        fullMs += performance.now() - t;
        t = performance.now();
        const cap = langId.detect(cleaned.text.slice(0, LANG_ID_CHARS));
        capMs += performance.now() - t;
        const ok = (r: { lang: string; score: number }) => r.lang === label && r.score >= 0.5;
        pages++;
        if (ok(full) === ok(cap)) same++;
        else differ.push(`${lang}:${ev.page.title} full=${full.lang}/${f(full.score)} cap=${cap.lang}/${f(cap.score)}`);
      }
    }
  }
  console.log(`language id on the first ${LANG_ID_CHARS} chars vs whole text: same verdict on ${same}/${pages} shared pages; lid time ${f(fullMs / 1000)} s → ${f(capMs / 1000)} s${differ.length ? `; differ: ${differ.join('; ')}` : ''}`);
}

/** `node --cpu-prof` over the plain pipeline; prints the functions with the most self time. */
function profile(file: string, lang: string, tmp: string): void {
  const dir = path.join(tmp, 'prof');
  spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, '--import', 'tsx', PLAIN, file, lang], { stdio: 'ignore' });
  const prof = JSON.parse(readFileSync(path.join(dir, readdirSync(dir)[0]), 'utf8')) as { nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>; samples: number[]; timeDeltas: number[] };
  const self_ = new Map<number, number>();
  prof.samples.forEach((id, i) => self_.set(id, (self_.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
  const byFn = new Map<string, number>();
  for (const n of prof.nodes) {
    const key = `${n.callFrame.functionName || '(anonymous)'} ${path.relative(ROOT, n.callFrame.url.replace('file://', ''))}:${n.callFrame.lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + (self_.get(n.id) ?? 0));
  }
  const total = [...byFn.values()].reduce((a, b) => a + b, 0);
  console.log('\ncpu profile of the plain pipeline (self time):');
  for (const [fn, us] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${f((100 * us) / total, 1).padStart(5)}%  ${fn}`);
}


const [mode, ...args] = process.argv.slice(2);
const run = mode === '--temporal' ? temporalMode(args[0], args[1], args[2], args[3]) : main();
run.then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
