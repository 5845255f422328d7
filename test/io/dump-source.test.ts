import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupRanges, streamRanges } from '../../src/core/wiki/multistream-index';
import { INVALID_UTF8_MARK } from '../../src/core/wiki/xml-pages';
import {
  DumpFormatError,
  DumpNotFoundError,
  Utf8Decoder,
  openDump,
  readPages,
  readSelectedPages,
  readStreamOffsets,
  type Bz2Decoder,
  type DumpInput,
  type PageEvent,
  type ReadPagesOptions,
} from '../../src/io/dump-source';
import { HAVE_SHARED_DATA, SHARED_DATA_MISSING, sharedData } from '../support/shared-data';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'wiki');
const tmp = mkdtempSync(path.join(tmpdir(), 'dump-source-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const has = (cmd: string) => !spawnSync(cmd, ['--help'], { stdio: 'ignore' }).error;
const DECODERS = (['lbzip2', 'bzip2'] as Bz2Decoder[]).filter(has);

async function all(input: DumpInput, opts: ReadPagesOptions = {}): Promise<PageEvent[]> {
  const out: PageEvent[] = [];
  for await (const ev of readPages(input, opts)) out.push(ev);
  return out;
}

function tally(events: PageEvent[]) {
  const drops: Record<string, number> = {};
  let pages = 0;
  let ns0 = 0;
  let redirects = 0;
  for (const ev of events) {
    if (ev.kind === 'drop') drops[ev.reason] = (drops[ev.reason] ?? 0) + 1;
    else {
      pages++;
      if (ev.page.ns === 0 && ev.page.redirect) redirects++;
      else if (ev.page.ns === 0) ns0++;
    }
  }
  return { pages, ns0, redirects, drops };
}

const pageMap = (events: PageEvent[]) => new Map(events.flatMap((e) => (e.kind === 'page' ? [[e.page.pageId, e.page] as const] : [])));

describe('openDump: formats and fail-fast errors', () => {
  const xml = readFileSync(path.join(FIXTURES, 'full.xml'));
  const files = {
    xml: path.join(tmp, 'f.xml'),
    bz2: path.join(tmp, 'f.xml.bz2'),
    gzip: path.join(tmp, 'f.xml.gz'),
    xz: path.join(tmp, 'f.xml.xz'),
  };
  beforeAll(() => {
    writeFileSync(files.xml, xml);
    writeFileSync(files.bz2, execFileSync('bzip2', ['-c'], { input: xml }));
    writeFileSync(files.gzip, gzipSync(xml));
    writeFileSync(files.xz, execFileSync('xz', ['-c'], { input: xml }));
  });

  it.each(['xml', 'bz2', 'gzip', 'xz'] as const)('detects %s by magic bytes and yields the same pages', async (format) => {
    const dump = await openDump(files[format]);
    expect(dump.format).toBe(format);
    const events = await all(files[format]);
    expect(events).toEqual(await all(files.xml));
    expect(tally(events).pages).toBe(5);
  });

  it('fails fast on a missing file, naming the path', async () => {
    await expect(openDump(path.join(tmp, 'nope.xml.bz2'))).rejects.toThrow(DumpNotFoundError);
    await expect(openDump(path.join(tmp, 'nope.xml.bz2'))).rejects.toThrow(/nope\.xml\.bz2/);
  });

  it('fails fast on an unknown format, naming the expected ones', async () => {
    const f = path.join(tmp, 'f.zip');
    writeFileSync(f, Buffer.from('PK\x03\x04 not a dump'));
    await expect(openDump(f)).rejects.toThrow(DumpFormatError);
    await expect(openDump(f)).rejects.toThrow(/bzip2 \(BZh\).*gzip.*xz.*plain XML/);
  });

  it('reports progress in compressed bytes and the last page id', async () => {
    const seen: number[] = [];
    let last: { bytesRead: number; totalBytes?: number; lastPageId?: number } = { bytesRead: 0 };
    await all(files.bz2, { onProgress: (p) => ((last = p), seen.push(p.bytesRead)) });
    expect(last.bytesRead).toBe(statSync(files.bz2).size);
    expect(last.totalBytes).toBe(statSync(files.bz2).size);
    expect(last.lastPageId).toBe(6);
  });
});

describe('Utf8Decoder', () => {
  it('joins a character split across chunks and marks invalid bytes, not a real U+FFFD', () => {
    const d = new Utf8Decoder();
    const bytes = Buffer.from('é数\uFFFD', 'utf8');
    let text = '';
    for (const b of bytes) text += d.push(Buffer.from([b]));
    expect(text + d.flush()).toBe('é数\uFFFD');
    expect(d.push(Buffer.from([0x61, 0xff, 0x62, 0xc3]))).toBe(`a${INVALID_UTF8_MARK}b`);
    expect(d.flush()).toBe(INVALID_UTF8_MARK);
  });
});

// README table: file, <page>, ns0 articles, ns0 redirects, dump_truncated expected.
const SHARED: [string, number, number, number, number][] = [
  ['wiki/en/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2', 206, 106, 99, 0],
  ['wiki/en/dbpedia-minidump-enwiki.xml.bz2', 27, 24, 2, 0],
  ['wiki/en/enwiki-table-markup.xml.bz2', 5, 5, 0, 0],
  ['wiki/zh/zhwiki-test-pages.xml', 33, 23, 0, 0],
  ['wiki/zh/zhwiki-20150423-id13.xml', 1, 1, 0, 0],
  ['wiki/zh/dbpedia-minidump-zhwiki.xml.bz2', 1, 1, 0, 0],
  ['wiki/ru/ruwiki-20201101-pages-meta-current-excerpt_big.xml', 24, 19, 1, 0],
  ['wiki/ru/ruwiki-latest-pages-articles.xml.bz2', 2, 1, 1, 1],
  ['wiki/ru/ruwiki-test.xml', 1, 1, 0, 0],
  ['wiki/ru/dbpedia-minidump-ruwiki.xml.bz2', 1, 1, 0, 0],
  ['wiki/fr/frwiki-20101103-pages-articles-sample.xml', 6, 5, 1, 0],
  ['wiki/fr/dbpedia-minidump-frwiki.xml.bz2', 3, 3, 0, 0],
  ['wiki/fr/frwiki-20121230-id3.xml', 1, 1, 0, 0],
  ['wiki/es/dbpedia-minidump-eswiki.xml.bz2', 1, 1, 0, 0],
  ['wiki/es/eswiki-test.xml', 1, 1, 0, 0],
  ['wiki/multistream/fatwiki-20240920-pages-articles-multistream.xml.bz2', 3566, 1466, 19, 0],
];

const EN = 'wiki/en/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2';
const FAT = 'wiki/multistream/fatwiki-20240920-pages-articles-multistream.xml.bz2';
const FAT_INDEX = 'wiki/multistream/fatwiki-20240920-pages-articles-multistream-index.txt.bz2';

describe.skipIf(!HAVE_SHARED_DATA)(`shared dumps (${HAVE_SHARED_DATA ? 'present' : SHARED_DATA_MISSING})`, () => {
  it.each(SHARED)('%s: pages, ns0 articles and redirects match the README', async (file, pages, ns0, redirects, truncated) => {
    const t = tally(await all(sharedData(file)));
    expect({ pages: t.pages, ns0: t.ns0, redirects: t.redirects }).toEqual({ pages, ns0, redirects });
    expect(t.drops).toEqual(truncated ? { dump_truncated: truncated } : {});
  });

  it('readSelectedPages accounts for every page: kept + drops by reason = pages read', async () => {
    const events: PageEvent[] = [];
    for await (const ev of readSelectedPages(sharedData('wiki/zh/zhwiki-test-pages.xml'), { lang: 'zh' })) events.push(ev);
    const t = tally(events);
    expect(t.pages + Object.values(t.drops).reduce((a, b) => a + b, 0)).toBe(33);
    expect(t.drops.wiki_non_main).toBe(10);
    expect(t.pages + (t.drops.wiki_disambiguation ?? 0) + (t.drops.wiki_empty ?? 0)).toBe(23);
  });

  it('resumes after a heartbeated page id without repeating earlier pages', async () => {
    const whole = await all(sharedData(EN));
    const cursor = whole[119].kind === 'page' ? whole[119].page.pageId : -1;
    const rest = await all(sharedData(EN), { resumeAfterPageId: cursor });
    expect(rest).toEqual(whole.slice(120));
  });

  describe.each(DECODERS)('planted damage, decoded with %s', (decoder) => {
    const original = () => readFileSync(sharedData(EN));

    it('a damaged bz2 block mid-file: counted, the run goes on, every other page kept intact', async () => {
      const bytes = Buffer.from(original());
      const mid = bytes.length >> 1;
      for (let i = mid; i < mid + 16; i++) bytes[i] ^= 0x5a;
      const file = path.join(tmp, `damaged-${decoder}.bz2`);
      writeFileSync(file, bytes);
      const clean = pageMap(await all(sharedData(EN)));
      const events = await all(file, { bz2Decoder: decoder });
      const t = tally(events);
      expect(t.drops.dump_corrupt_block).toBe(1);
      expect(t.drops.wiki_parse_error).toBe(1);
      expect(t.pages).toBeGreaterThan(150);
      for (const [id, page] of pageMap(events)) expect(page).toEqual(clean.get(id));
      // pages after the damage are read: the last page of the file is there
      expect(pageMap(events).has([...clean.keys()].pop()!)).toBe(true);
    });

    it('a truncated bz2 file: dump_truncated once, every complete page before the cut kept', async () => {
      const bytes = original();
      const file = path.join(tmp, `truncated-${decoder}.bz2`);
      writeFileSync(file, bytes.subarray(0, Math.floor((bytes.length * 2) / 3)));
      const whole = await all(sharedData(EN));
      const events = await all(file, { bz2Decoder: decoder });
      const t = tally(events);
      expect(t.drops).toEqual({ dump_truncated: 1 });
      expect(events.slice(0, -1)).toEqual(whole.slice(0, events.length - 1));
      expect(t.pages).toBeGreaterThan(130);
    });
  });

  it('invalid UTF-8 bytes: only the page holding them is dropped as wiki_invalid_utf8', async () => {
    const xml = readFileSync(sharedData('wiki/zh/zhwiki-test-pages.xml'));
    const at = xml.indexOf(Buffer.from('<title>哲学</title>'));
    const textAt = xml.indexOf(Buffer.from('<text'), at) + 200;
    const bad = Buffer.concat([xml.subarray(0, textAt), Buffer.from([0xff, 0xc3, 0x28]), xml.subarray(textAt)]);
    const file = path.join(tmp, 'invalid-utf8.xml');
    writeFileSync(file, bad);
    const select = async (f: string) => {
      const out: PageEvent[] = [];
      for await (const ev of readSelectedPages(f, { lang: 'zh' })) out.push(ev);
      return out;
    };
    const clean = await select(sharedData('wiki/zh/zhwiki-test-pages.xml'));
    const damaged = await select(file);
    const dropped = damaged.filter((e) => e.kind === 'drop' && e.reason === 'wiki_invalid_utf8');
    expect(dropped).toHaveLength(1);
    const id = dropped[0].kind === 'drop' ? dropped[0].pageId : undefined;
    expect(clean.find((e) => e.kind === 'page' && e.page.pageId === id)).toBeDefined();
    expect(damaged.filter((e) => !(e.kind === 'drop' && e.pageId === id))).toEqual(clean.filter((e) => !(e.kind === 'page' && e.page.pageId === id)));
  });
});

/** Builds a multistream bz2 + offsets from an XML text: header stream, groups of `per` pages, footer stream. */
function buildMultistream(xml: string, per: number): { bytes: Buffer; offsets: number[] } {
  const first = xml.indexOf('  <page>');
  const last = xml.lastIndexOf('</page>') + '</page>\n'.length;
  const pages = xml.slice(first, last).split(/(?<=<\/page>\n)/);
  const parts = [xml.slice(0, first)];
  for (let i = 0; i < pages.length; i += per) parts.push(pages.slice(i, i + per).join(''));
  parts.push(xml.slice(last));
  const streams = parts.map((p) => execFileSync('bzip2', ['-c'], { input: Buffer.from(p, 'utf8') }));
  const offsets: number[] = [];
  let at = 0;
  for (const s of streams) {
    offsets.push(at);
    at += s.length;
  }
  return { bytes: Buffer.concat(streams), offsets: offsets.slice(1, -1) };
}

async function readByRanges(input: DumpInput, offsets: number[], size: number, n: number, opts: ReadPagesOptions = {}) {
  const groups = groupRanges(streamRanges(offsets, size), n);
  const parts = await Promise.all(groups.map((g) => all(input, { ...opts, start: g.start, end: g.end })));
  return parts.flat();
}

describe.skipIf(!HAVE_SHARED_DATA)(`multistream (${HAVE_SHARED_DATA ? 'shared data' : SHARED_DATA_MISSING})`, () => {
  let built: { bytes: Buffer; offsets: number[] };
  let file: string;
  let server: Server;
  let url: string;
  beforeAll(async () => {
    built = buildMultistream(execFileSync('bzip2', ['-dc', sharedData(EN)], { maxBuffer: 1 << 26 }).toString('utf8'), 20);
    file = path.join(tmp, 'built-multistream.xml.bz2');
    writeFileSync(file, built.bytes);
    // Loopback server with HTTP Range support, as dumps.wikimedia.org offers.
    server = createServer((req, res) => {
      const size = built.bytes.length;
      const m = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '');
      if (!m) {
        res.writeHead(200, { 'content-length': size });
        if (req.method === 'HEAD') return res.end();
        return createReadStream(file).pipe(res);
      }
      const start = Number(m[1]);
      const end = m[2] ? Number(m[2]) : size - 1;
      res.writeHead(206, { 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${size}` });
      createReadStream(file, { start, end }).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/enwiki-multistream.xml.bz2`;
  });
  afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('built file: ranges read in parallel give the same pages as one sequential read', async () => {
    const sequential = await all(file);
    expect(tally(sequential).pages).toBe(206);
    for (const n of [1, 3, 5]) expect(await readByRanges(file, built.offsets, built.bytes.length, n)).toEqual(sequential);
  });

  it('built file over loopback HTTP with Range requests gives the same pages', async () => {
    const sequential = await all(file);
    expect(await readByRanges(url, built.offsets, built.bytes.length, 3)).toEqual(sequential);
    expect(await all(url)).toEqual(sequential);
  });

  it('a damaged stream is skipped; the other streams keep all their pages', async () => {
    const bytes = Buffer.from(built.bytes);
    const s = built.offsets[4];
    const e = built.offsets[5];
    const mid = (s + e) >> 1;
    for (let i = mid; i < mid + 8; i++) bytes[i] ^= 0xa5;
    const damaged = path.join(tmp, 'damaged-multistream.xml.bz2');
    writeFileSync(damaged, bytes);
    const clean = pageMap(await all(file));
    const events = await readByRanges(damaged, built.offsets, bytes.length, 3);
    const t = tally(events);
    expect(t.drops.dump_corrupt_block).toBe(1);
    // stream 4 held pages 80..99 (0-based): all others kept, identical
    expect(t.pages).toBe(206 - 20);
    for (const [id, page] of pageMap(events)) expect(page).toEqual(clean.get(id));
  });

  it('real fatwiki multistream + index: parallel ranges equal the sequential read', async () => {
    const offsets = await readStreamOffsets(sharedData(FAT_INDEX));
    expect(offsets).toHaveLength(36);
    const head = readFileSync(sharedData(FAT));
    for (const o of offsets) expect(head.toString('latin1', o, o + 3)).toBe('BZh');
    const sequential = await all(sharedData(FAT));
    const parallel = await readByRanges(sharedData(FAT), offsets, head.length, 4);
    expect(parallel).toEqual(sequential);
    expect(tally(parallel).pages).toBe(3566);
  });
});

describe('storage input', () => {
  it('reads a dump through the Storage interface, whole and by range', async () => {
    const xml = readFileSync(path.join(FIXTURES, 'fragment.xml'));
    const body = execFileSync('bzip2', ['-c'], { input: xml });
    const storage = {
      location: 'mem://',
      size: async (key: string) => (key === 'd.bz2' ? body.length : undefined),
      getRange: async (_key: string, start: number, end: number) => body.subarray(start, end),
      readStream: async () => {
        const { Readable } = await import('node:stream');
        return Readable.from([body]);
      },
    } as unknown as import('../../src/storage/storage').Storage;
    const whole = await all({ storage, key: 'd.bz2' });
    expect(tally(whole).pages).toBe(2);
    expect(await all({ storage, key: 'd.bz2' }, { start: 0, end: body.length })).toEqual(whole);
    await expect(openDump({ storage, key: 'missing' })).rejects.toThrow(/missing/);
  });
});
