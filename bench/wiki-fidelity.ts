/**
 * Wikitext cleaning: our cleaner vs wikiextractor (the paper's tool) vs wtf_wikipedia, side by side on the
 * same files in one run, plus the throughput of each knowledge-stage step.
 *
 *   python3 -m venv .ultralink/cache/venv && .ultralink/cache/venv/bin/pip install wikiextractor
 *   npx tsx bench/wiki-fidelity.ts [dump.xml.bz2 ...]      (default: every shared en/zh/ru/fr/es dump)
 *
 * Fidelity: per-page token F1 (bag of words; each Han character a token) against wikiextractor
 * `--no-templates --json`, and the share of pages with leftover markup ({{ }} [[ {| <ref).
 * Speed: pages/s and XML MB/s on one core: ours = bzip2 -dc + page split + clean in this process;
 * wikiextractor = `--processes 1`, wall clock and CPU seconds; `bzip2 -dc > /dev/null` is the ceiling.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadLangId } from '../src/core/text/lang-id';
import { segmentDocument } from '../src/core/text/segment';
import { toSimplified } from '../src/core/text/script';
import { cl100k, countTokens } from '../src/core/text/tokens';
import { cleanWikitext } from '../src/core/wiki/wikitext';

// wtf_wikipedia is ESM-typed; its CommonJS build is loaded with require (baseline only).
const wtf = require('wtf_wikipedia') as (wikitext: string) => { text(): string };

const ROOT = path.resolve(__dirname, '..');
const SHARED = path.resolve(ROOT, '..', 'shared', 'data', 'wiki');
const PYTHON = path.join(ROOT, '.ultralink', 'cache', 'venv', 'bin', 'python');
const LEFTOVER = /\{\{|\}\}|\[\[|\{\||<ref/;

interface Page { id: number; title: string; text: string }

function decompress(file: string): Buffer {
  return file.endsWith('.bz2') ? execFileSync('bzip2', ['-dc', file], { maxBuffer: 1 << 30 }) : readFileSync(file);
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|quot|apos|amp);/g, (_m, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]!);
}

function splitPages(xml: string): Page[] {
  const out: Page[] = [];
  for (const m of xml.matchAll(/<page>([\s\S]*?)<\/page>/g)) {
    const body = m[1];
    if (/<redirect\b/.test(body) || (/<ns>(\d+)<\/ns>/.exec(body)?.[1] ?? '0') !== '0') continue;
    out.push({
      id: Number(/<id>(\d+)<\/id>/.exec(body)?.[1]),
      title: unescapeXml(/<title>([\s\S]*?)<\/title>/.exec(body)?.[1] ?? ''),
      text: unescapeXml(/<text[^>]*?(?:\/>|>([\s\S]*?)<\/text>)/.exec(body)?.[1] ?? ''),
    });
  }
  return out;
}

function words(text: string): Map<string, number> {
  const bag = new Map<string, number>();
  for (const m of text.toLowerCase().matchAll(/\p{Script=Han}|[\p{L}\p{N}]+/gu)) bag.set(m[0], (bag.get(m[0]) ?? 0) + 1);
  return bag;
}

function f1(a: Map<string, number>, b: Map<string, number>): number {
  let inter = 0, na = 0, nb = 0;
  for (const n of a.values()) na += n;
  for (const n of b.values()) nb += n;
  for (const [w, n] of a) inter += Math.min(n, b.get(w) ?? 0);
  return na + nb === 0 ? 1 : (2 * inter) / (na + nb);
}

const median = (xs: number[]) => (xs.length === 0 ? NaN : [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]);
const mbps = (bytes: number, ms: number) => (bytes / 1e6 / (ms / 1000)).toFixed(2);
const pct = (n: number, d: number) => `${((100 * n) / Math.max(1, d)).toFixed(1)}%`;

function cpuSeconds(cmd: string): { wall: number; cpu: number; stdout: string } {
  const started = performance.now();
  const r = spawnSync('bash', ['-c', `TIMEFORMAT='%U %S'; { time ${cmd} 2>/dev/null; } 2>&1 1>/tmp/ultralink-bench.out`], { encoding: 'utf8' });
  const wall = (performance.now() - started) / 1000;
  const [u, s] = r.stdout.trim().split(/\s+/).slice(-2).map(Number);
  return { wall, cpu: u + s, stdout: readFileSync('/tmp/ultralink-bench.out', 'utf8') };
}

function benchFile(file: string, diffs: { oursOnly: Map<string, number>; theirsOnly: Map<string, number> }) {
  const xmlBytes = decompress(file).length;
  const ceiling = cpuSeconds(`bzip2 -dc '${file}' > /dev/null`);

  const t0 = performance.now();
  const xml = decompress(file).toString('utf8');
  const cpu0 = process.cpuUsage();
  const pages = splitPages(xml);
  const ours = new Map<number, string>();
  const tClean = performance.now();
  for (const p of pages) {
    const r = cleanWikitext(p.text);
    if (r.ok) ours.set(p.id, r.text);
  }
  const cleanMs = performance.now() - tClean;
  const cpu = process.cpuUsage(cpu0);
  const oursMs = performance.now() - t0;
  // Per core: bzip2's CPU seconds (measured above) + this process's CPU for split and clean.
  const oursCpuMs = ceiling.cpu * 1000 + (cpu.user + cpu.system) / 1000;

  const t1 = performance.now();
  const wtfText = new Map<number, string>();
  for (const p of pages) {
    try {
      wtfText.set(p.id, wtf(p.text).text());
    } catch {
      /* counted as missing */
    }
  }
  const wtfMs = performance.now() - t1;

  let wx: Map<number, string> | undefined;
  let wxRun: { wall: number; cpu: number } | undefined;
  if (existsSync(PYTHON)) {
    const run = cpuSeconds(`'${PYTHON}' -m wikiextractor.WikiExtractor --no-templates --json --processes 1 -o - '${file}'`);
    wx = new Map();
    for (const line of run.stdout.split('\n')) if (line) { const j = JSON.parse(line); wx.set(Number(j.id), j.text); }
    wxRun = run;
  }

  const f1s: number[] = [];
  const f1wtf: number[] = [];
  if (wx && wx.size > 0) {
    for (const [id, theirs] of wx) {
      const mine = ours.get(id);
      if (mine === undefined || theirs.length < 200) continue;
      const a = words(mine), b = words(theirs);
      f1s.push(f1(a, b));
      const w = wtfText.get(id);
      if (w !== undefined) f1wtf.push(f1(words(w), b));
      for (const [k, n] of a) { const d = n - (b.get(k) ?? 0); if (d > 0) diffs.oursOnly.set(k, (diffs.oursOnly.get(k) ?? 0) + d); }
      for (const [k, n] of b) { const d = n - (a.get(k) ?? 0); if (d > 0) diffs.theirsOnly.set(k, (diffs.theirsOnly.get(k) ?? 0) + d); }
    }
  }
  const left = (m: Map<number, string>) => [...m.values()].filter((t) => LEFTOVER.test(t)).length;
  console.log(`\n## ${path.relative(SHARED, file)}  (${(xmlBytes / 1e6).toFixed(2)} MB XML, ${pages.length} articles)`);
  console.log(`  bzip2 -dc ceiling        ${mbps(xmlBytes, ceiling.cpu * 1000)} MB/s (cpu)`);
  console.log(`  ours (bunzip+split+clean) ${mbps(xmlBytes, oursMs)} MB/s wall (${mbps(xmlBytes, oursCpuMs)} MB/s per CPU-second), ${(pages.length / (oursMs / 1000)).toFixed(0)} pages/s, leftover ${pct(left(ours), ours.size)}; clean alone ${mbps(xmlBytes, cleanMs)} MB/s`);
  console.log(`  wtf_wikipedia (clean only) ${mbps(xmlBytes, wtfMs)} MB/s, ${(pages.length / (wtfMs / 1000)).toFixed(0)} pages/s, leftover ${pct(left(wtfText), wtfText.size)}, median F1 vs wikiextractor ${median(f1wtf).toFixed(3)}`);
  if (wx && wxRun) {
    console.log(`  wikiextractor --processes 1 ${mbps(xmlBytes, wxRun.wall * 1000)} MB/s wall (${mbps(xmlBytes, wxRun.cpu * 1000)} MB/s per CPU-second), ${(wx.size / wxRun.wall).toFixed(0)} pages/s, leftover ${pct(left(wx), wx.size)}`);
    console.log(`  ours vs wikiextractor: ${(wxRun.wall * 1000 / oursMs).toFixed(1)}× faster (wall), ${(wxRun.cpu * 1000 / oursCpuMs).toFixed(1)}× per CPU-second; token F1 median ${median(f1s).toFixed(3)}, p10 ${[...f1s].sort((a, b) => a - b)[Math.floor(f1s.length / 10)]?.toFixed(3)} over ${f1s.length} pages`);
  }
  return { pages, ours };
}

async function stepThroughput(docs: Array<{ lang: string; text: string }>) {
  const bytes = docs.reduce((n, d) => n + Buffer.byteLength(d.text), 0);
  const time = (name: string, run: () => void) => {
    const t = performance.now();
    run();
    console.log(`  ${name.padEnd(38)} ${mbps(bytes, performance.now() - t)} MB/s of clean text`);
  };
  const langId = await loadLangId();
  countTokens('warm up');
  console.log(`\n## step throughput over ${docs.length} cleaned docs (${(bytes / 1e6).toFixed(2)} MB)`);
  time('langid (lid.176, whole doc)', () => docs.forEach((d) => langId.detect(d.text)));
  time('tiktoken encode_ordinary (wasm)', () => docs.forEach((d) => cl100k().encode_ordinary(d.text)));
  time('countTokens (memoised pieces, 1st pass)', () => docs.forEach((d) => countTokens(d.text)));
  time('countTokens (2nd pass)', () => docs.forEach((d) => countTokens(d.text)));
  time('segmentDocument (1K-2K)', () => docs.forEach((d, i) => segmentDocument({ lang: d.lang, pageId: i, title: '', text: d.text })));
  time('Intl.Segmenter sentences, whole doc', () =>
    docs.forEach((d) => { for (const _ of new Intl.Segmenter(d.lang, { granularity: 'sentence' }).segment(d.text)) void _; }));
  const zh = docs.filter((d) => d.lang === 'zh');
  if (zh.length) {
    const zb = zh.reduce((n, d) => n + Buffer.byteLength(d.text), 0);
    const t = performance.now();
    zh.forEach((d) => toSimplified(d.text));
    console.log(`  ${'t2s (opencc-js tw→cn), zh docs only'.padEnd(38)} ${mbps(zb, performance.now() - t)} MB/s`);
  }
}

async function main() {
  const files = process.argv.slice(2).length
    ? process.argv.slice(2)
    : ['en', 'zh', 'ru', 'fr', 'es'].flatMap((l) => readdirSync(path.join(SHARED, l)).sort().map((f) => path.join(SHARED, l, f)));
  if (!existsSync(PYTHON)) console.log(`(wikiextractor venv missing at ${PYTHON}: fidelity columns skipped)`);
  const diffs = { oursOnly: new Map<string, number>(), theirsOnly: new Map<string, number>() };
  const docs: Array<{ lang: string; text: string }> = [];
  for (const file of files) {
    const lang = path.basename(path.dirname(file));
    const { ours } = benchFile(file, diffs);
    for (const text of ours.values()) docs.push({ lang, text });
  }
  const top = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([w, n]) => `${w}:${n}`).join(' ');
  console.log(`\n## words in ours, not in wikiextractor (top): ${top(diffs.oursOnly)}`);
  console.log(`## words in wikiextractor, not in ours (top): ${top(diffs.theirsOnly)}`);
  await stepThroughput(docs);
}

void main();
