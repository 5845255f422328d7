/** Bench: bz2 decoding ceiling (bzip2, lbzip2) vs our openDump + page parse, and our scanner vs saxes, on one file. */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { SaxesParser } from 'saxes';
import { readPages, type Bz2Decoder } from '../src/io/dump-source';
import { parsePages, type XmlChunk } from '../src/core/wiki/xml-pages';
import { sharedData } from '../test/support/shared-data';

const FILE = process.argv[2] ?? sharedData('wiki/en/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2');
const RUNS = Number(process.argv[3] ?? 3);

const xml = spawnSync('bzip2', ['-dc', FILE], { maxBuffer: 1 << 30 }).stdout;
const xmlMB = xml.length / 1e6;

function best(fn: () => Promise<number> | number): Promise<{ ms: number; pages: number }> {
  return (async () => {
    let ms = Infinity;
    let pages = 0;
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      pages = await fn();
      ms = Math.min(ms, performance.now() - t);
    }
    return { ms, pages };
  })();
}

const shell = (cmd: string) => () => {
  const r = spawnSync('sh', ['-c', `${cmd} < '${FILE}' > /dev/null`]);
  if (r.status !== 0) throw new Error(`${cmd} failed`);
  return 0;
};

async function ours(decoder: Bz2Decoder, threads?: number): Promise<number> {
  let n = 0;
  for await (const ev of readPages(FILE, { bz2Decoder: decoder, threads })) if (ev.kind === 'page') n++;
  return n;
}

async function* inMemory(): AsyncGenerator<XmlChunk> {
  const text = xml.toString('utf8');
  for (let i = 0; i < text.length; i += 65536) yield text.slice(i, i + 65536);
}

async function scannerOnly(): Promise<number> {
  let n = 0;
  for await (const item of parsePages(inMemory())) if (!('error' in item)) n++;
  return n;
}

function saxesOnly(): number {
  // Same work as ours: collect title/id/text per page.
  let n = 0;
  let text = '';
  const parser = new SaxesParser();
  parser.on('text', (t) => (text += t));
  parser.on('opentag', () => (text = ''));
  parser.on('closetag', (tag) => {
    if (tag.name === 'page') n++;
  });
  const s = xml.toString('utf8');
  for (let i = 0; i < s.length; i += 65536) parser.write(s.slice(i, i + 65536));
  parser.close();
  return n;
}

async function main() {
  const has = (c: string) => !spawnSync(c, ['--help'], { stdio: 'ignore' }).error;
  console.log(`file: ${FILE}\ncompressed ${(statSync(FILE).size / 1e6).toFixed(2)} MB, XML ${xmlMB.toFixed(2)} MB, best of ${RUNS}\n`);
  const rows: [string, () => Promise<number> | number][] = [['bzip2 -dc > /dev/null', shell('bzip2 -dc')]];
  if (has('lbzip2')) {
    rows.push(['lbzip2 -dc -n 1 > /dev/null', shell('lbzip2 -dc -n 1')]);
    rows.push(['lbzip2 -dc > /dev/null (all cores)', shell('lbzip2 -dc')]);
  }
  rows.push(['openDump(bzip2) + parsePages', () => ours('bzip2')]);
  if (has('lbzip2')) {
    rows.push(['openDump(lbzip2 -n 1) + parsePages', () => ours('lbzip2', 1)]);
    rows.push(['openDump(lbzip2) + parsePages', () => ours('lbzip2')]);
  }
  rows.push(['parsePages only (XML in memory)', scannerOnly]);
  rows.push(['saxes only (XML in memory)', saxesOnly]);
  console.log('| path | ms | XML MB/s | pages/s |\n|---|---:|---:|---:|');
  for (const [name, fn] of rows) {
    const { ms, pages } = await best(fn);
    const pps = pages ? (pages / (ms / 1000)).toFixed(0) : '–';
    console.log(`| ${name} | ${ms.toFixed(0)} | ${(xmlMB / (ms / 1000)).toFixed(1)} | ${pps} |`);
  }
}

void main();
