/**
 * Knowledge preparation end to end on the real dev server (paper §2.1.1): every shared dump through
 * knowledgeWorkflow with a funnel that adds up and lossless, bounded segments; planted damage counted while
 * the other pages are kept; the multistream fan-out equal to the sequential read; a worker SIGKILLed
 * mid-extraction resumed from its heartbeat into the same segments as an undisturbed run; a missing dump
 * failing at once. No LLM is involved.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { knowledgeTools, type FlushPolicy } from '../../src/activities/knowledge';
import type { Config, ConfigInput } from '../../src/config';
import type { Segment } from '../../src/core/records';
import type { Funnel } from '../../src/core/stats';
import { loadLangId } from '../../src/core/text/lang-id';
import { emptyKnowledgeFunnel, KNOWLEDGE_STEPS, prepareDocument } from '../../src/core/text/pipeline';
import { sentenceBoundaries } from '../../src/core/text/segment';
import { countTokens } from '../../src/core/text/tokens';
import { readSelectedPages } from '../../src/io/dump-source';
import { stageWorkflowId } from '../../src/names';
import { createFsStorage } from '../../src/storage/fs-storage';
import { getJson, getJsonl } from '../../src/storage/json';
import type { KnowledgeResult, knowledgeWorkflow } from '../../src/workflows/knowledge';
import { spawnWorker, startWorker, testClient, testConfig, testDir, waitUntil } from '../support/harness';
import { HAVE_SHARED_DATA, SHARED_DATA_MISSING, sharedData } from '../support/shared-data';

/** Nothing here calls the LLM; the gateway still needs a URL. */
const NO_LLM = 'http://127.0.0.1:9/v1';
/** Low enough that most real articles pass, so segmentation is exercised on many documents. */
const BOUNDS = { minDocTokens: 100, maxDocTokens: 100_000, minSegmentTokens: 300, maxSegmentTokens: 600 };
const EN_EXCERPT = 'wiki/en/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2';
const EN_MINIDUMP = 'wiki/en/dbpedia-minidump-enwiki.xml.bz2';

interface Run {
  result: KnowledgeResult;
  segments: Segment[];
}

/** One build id per run: the config (with this run's dump) rides in the input and is saved under it. */
let runs = 0;
async function extract(client: Client, base: Config, dir: string, lang: string, dump: string, opts: { dumpIndex?: string; knowledge?: Partial<Config['knowledge']>; flush?: FlushPolicy; buildId?: string } = {}): Promise<Run> {
  const buildId = opts.buildId ?? `kn-${path.basename(dir)}-${runs++}`;
  const config: Config = {
    ...base,
    knowledge: { ...base.knowledge, ...opts.knowledge },
    languages: { [lang]: { ...base.languages[lang]!, dump, dumpIndex: opts.dumpIndex } },
  };
  const result = await client.workflow.execute<typeof knowledgeWorkflow>('knowledgeWorkflow', {
    workflowId: stageWorkflowId(buildId, lang, 'knowledge'),
    taskQueue: base.temporal.workTaskQueue,
    args: [{ buildId, lang, config, flush: opts.flush }],
  });
  return { result, segments: await segmentsOf(dir, result.manifestKey) };
}

async function segmentsOf(dir: string, manifestKey: string): Promise<Segment[]> {
  const storage = createFsStorage(path.join(dir, 'data'));
  const manifest = await getJson<{ shards: Array<{ key: string; count: number }>; total: number }>(storage, manifestKey);
  const out: Segment[] = [];
  for (const shard of manifest!.shards) {
    const lines = (await getJsonl<Segment>(storage, shard.key))!;
    expect(lines).toHaveLength(shard.count);
    out.push(...lines);
  }
  expect(out).toHaveLength(manifest!.total);
  return out;
}

/** The stage's own functions in this process, no Temporal: the kept documents' cleaned text by page id. */
async function plainDocs(file: string, lang: string, config: Config): Promise<Map<number, string>> {
  const entry = config.languages[lang]!;
  const tools = knowledgeTools(await loadLangId());
  const options = { ...config.knowledge, ...BOUNDS, lang, fasttextLabel: entry.fasttextLabel, scriptConversion: entry.scriptConversion };
  const docs = new Map<number, string>();
  const funnel = emptyKnowledgeFunnel();
  for await (const ev of readSelectedPages(file, { lang, disambiguationTemplates: entry.disambiguationTemplates })) {
    if (ev.kind !== 'page') continue;
    const prepared = prepareDocument(ev.page, options, tools, funnel);
    if (prepared.kept) docs.set(prepared.doc.pageId, prepared.doc.text);
  }
  return docs;
}

/** Every page read ends in exactly one place: a drop reason of some step, or a kept document. */
function expectFunnelAddsUp(funnel: Funnel, pagesRead: number): void {
  const steps = ['select', ...KNOWLEDGE_STEPS];
  expect(Object.keys(funnel)).toEqual(steps);
  for (const step of steps) {
    const s = funnel[step]!;
    expect(s.total, step).toBe(s.kept + s.dropped);
    expect(Object.values(s.byReason).reduce((a, b) => a + b, 0), step).toBe(s.dropped);
  }
  expect(funnel.select!.total).toBe(pagesRead);
  for (let i = 1; i < steps.length; i++) expect(funnel[steps[i]]!.total, steps[i]).toBe(funnel[steps[i - 1]]!.kept);
  const drops = steps.reduce((n, step) => n + funnel[step]!.dropped, 0);
  expect(drops + funnel.segment!.kept).toBe(pagesRead);
}

function byPage(segments: Segment[]): Map<number, Segment[]> {
  const out = new Map<number, Segment[]>();
  for (const s of segments) out.set(s.pageId, [...(out.get(s.pageId) ?? []), s]);
  return out;
}

/**
 * segment.ts's rules: exact token counts; above max only a single sentence; below min only a document's only
 * segment or one that no neighbour could absorb within max.
 */
function expectWithinBounds(segments: Segment[], min: number, max: number): void {
  for (const doc of byPage(segments).values()) {
    expect(doc.map((s) => s.index)).toEqual(doc.map((_, i) => i));
    doc.forEach((s, i) => {
      expect(s.tokens).toBe(countTokens(s.text));
      if (s.tokens > max) expect(sentenceBoundaries(s.text), `${s.title} #${i} above max`).toEqual([]);
      if (s.tokens < min && doc.length > 1) {
        const prev = doc[i - 1];
        const next = doc[i + 1];
        if (prev) expect(countTokens(prev.text + s.text), `${s.title} #${i} short`).toBeGreaterThan(max);
        if (next) expect(countTokens(s.text + next.text), `${s.title} #${i} short`).toBeGreaterThan(max);
      }
    });
  }
}

const texts = (segments: Segment[]) => segments.map((s) => `${s.id} ${s.text}`);

describe.skipIf(!HAVE_SHARED_DATA)(`knowledgeWorkflow on the shared dumps (${HAVE_SHARED_DATA ? 'present' : SHARED_DATA_MISSING})`, () => {
  let dir: string;
  let config: Config;
  let client: Client;
  let worker: { stop(): Promise<void> };
  beforeAll(async () => {
    dir = testDir('knowledge');
    const languages = { en: {}, zh: {}, ru: {}, fr: {}, es: {} };
    config = testConfig(dir, NO_LLM, { languages, knowledge: { ...BOUNDS, rangeGroups: 3 } } as ConfigInput);
    worker = await startWorker(config);
    client = await testClient(config);
  });
  afterAll(async () => {
    await worker?.stop();
  });

  const files = (['en', 'zh', 'ru', 'fr', 'es'] as const).flatMap((lang) =>
    HAVE_SHARED_DATA ? readdirSync(sharedData(`wiki/${lang}`)).sort().map((f) => [lang, `wiki/${lang}/${f}`] as const) : [],
  );

  it.each(files)('%s %s: funnel adds up, segments rebuild each document, bounds hold', async (lang, file) => {
    const [run, docs] = await Promise.all([extract(client, config, dir, lang, sharedData(file)), plainDocs(sharedData(file), lang, config)]);
    const { result, segments } = run;
    expectFunnelAddsUp(result.funnel, result.pagesRead);
    expect(result.funnel.segment!.kept).toBe(docs.size);
    expect(result.segments).toBe(segments.length);
    expect(docs.size, 'most real articles pass the test bounds').toBeGreaterThan(0);
    const pages = byPage(segments);
    expect([...pages.keys()].sort((a, b) => a - b)).toEqual([...docs.keys()].sort((a, b) => a - b));
    for (const [pageId, doc] of pages) expect(doc.map((s) => s.text).join(''), `page ${pageId}`).toBe(docs.get(pageId));
    expect(segments.every((s) => s.lang === lang && s.title.length > 0)).toBe(true);
    expect(new Set(segments.map((s) => s.id)).size).toBe(segments.length);
    expectWithinBounds(segments, BOUNDS.minSegmentTokens, BOUNDS.maxSegmentTokens);
    expect(result.funnel.segment!.tokens).toBe(segments.reduce((n, s) => n + s.tokens, 0));
  });

  describe('planted damage: counted, the other pages kept', () => {
    let xml: Buffer;
    let clean: Run;
    let smallBlocks: Buffer;
    beforeAll(async () => {
      xml = execFileSync('bzip2', ['-dc', sharedData(EN_MINIDUMP)], { maxBuffer: 1 << 26 });
      // 100 kB blocks: a damaged block costs a page or two, not a third of the file.
      smallBlocks = execFileSync('bzip2', ['-1', '-c'], { input: xml, maxBuffer: 1 << 26 });
      const file = path.join(dir, 'minidump-small-blocks.xml.bz2');
      writeFileSync(file, smallBlocks);
      clean = await extract(client, config, dir, 'en', file);
    });

    it('a damaged bz2 block mid-file', async () => {
      const bytes = Buffer.from(smallBlocks);
      const mid = bytes.length >> 1;
      for (let i = mid; i < mid + 16; i++) bytes[i] ^= 0x5a;
      const file = path.join(dir, 'damaged.xml.bz2');
      writeFileSync(file, bytes);
      const { result, segments } = await extract(client, config, dir, 'en', file);
      expectFunnelAddsUp(result.funnel, result.pagesRead);
      expect(result.funnel.select!.byReason.dump_corrupt_block).toBe(1);
      const known = new Set(texts(clean.segments));
      for (const t of texts(segments)) expect(known.has(t)).toBe(true);
      const lastPage = (ss: Segment[]) => Math.max(...ss.map((s) => s.pageId));
      expect(lastPage(segments)).toBe(lastPage(clean.segments)); // pages after the damage are read
      expect(segments.length).toBeGreaterThan(clean.segments.length / 2);
    });

    it('a truncated bz2 file', async () => {
      const file = path.join(dir, 'truncated.xml.bz2');
      writeFileSync(file, smallBlocks.subarray(0, Math.floor((smallBlocks.length * 2) / 3)));
      const { result, segments } = await extract(client, config, dir, 'en', file);
      expectFunnelAddsUp(result.funnel, result.pagesRead);
      expect(result.funnel.select!.byReason.dump_truncated).toBe(1);
      expect(texts(segments)).toEqual(texts(clean.segments).slice(0, segments.length));
      expect(segments.length).toBeGreaterThan(clean.segments.length / 3);
    });

    it('invalid UTF-8 inside one page', async () => {
      const zh = readFileSync(sharedData('wiki/zh/zhwiki-test-pages.xml'));
      const at = zh.indexOf(Buffer.from('<title>哲学</title>'));
      const textAt = zh.indexOf(Buffer.from('<text'), at) + 200;
      const file = path.join(dir, 'invalid-utf8.xml');
      writeFileSync(file, Buffer.concat([zh.subarray(0, textAt), Buffer.from([0xff, 0xc3, 0x28]), zh.subarray(textAt)]));
      const [damaged, whole] = await Promise.all([extract(client, config, dir, 'zh', file), extract(client, config, dir, 'zh', sharedData('wiki/zh/zhwiki-test-pages.xml'))]);
      expectFunnelAddsUp(damaged.result.funnel, damaged.result.pagesRead);
      expect(damaged.result.funnel.select!.byReason.wiki_invalid_utf8).toBe(1);
      expect(damaged.result.pagesRead).toBe(whole.result.pagesRead);
      const philosophy = whole.segments.find((s) => s.title === '哲学')!.pageId;
      expect(texts(damaged.segments)).toEqual(texts(whole.segments.filter((s) => s.pageId !== philosophy)));
    });
  });

  it('multistream: range groups in parallel give the same segments as the sequential read', async () => {
    const xml = execFileSync('bzip2', ['-dc', sharedData(EN_MINIDUMP)], { maxBuffer: 1 << 26 }).toString('utf8');
    const built = buildMultistream(xml, 3);
    const file = path.join(dir, 'enwiki-multistream.xml.bz2');
    const index = path.join(dir, 'enwiki-multistream-index.txt');
    writeFileSync(file, built.bytes);
    writeFileSync(index, built.index);
    const [parallel, sequential] = await Promise.all([
      extract(client, config, dir, 'en', file, { dumpIndex: index }),
      extract(client, config, dir, 'en', file),
    ]);
    expect(parallel.result.extracts.map((e) => e.group)).toEqual([0, 1, 2]);
    expect(sequential.result.extracts.map((e) => e.group)).toEqual([undefined]);
    expect(sequential.segments.length).toBeGreaterThan(20);
    expect(texts(parallel.segments)).toEqual(texts(sequential.segments));
    expect(parallel.result.funnel.select).toEqual({ ...sequential.result.funnel.select, ms: parallel.result.funnel.select!.ms });
    expect(parallel.result.pagesRead).toBe(27);
  });

  it('a missing dump fails at once, non-retryable, naming the path', async () => {
    const missing = path.join(dir, 'no-such-dump.xml.bz2');
    const err = await extract(client, config, dir, 'en', missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const chain = JSON.stringify(causes(err));
    expect(chain).toContain('DumpNotFound');
    expect(chain).toContain('no-such-dump.xml.bz2');
  });
});

describe.skipIf(!HAVE_SHARED_DATA)(`worker SIGKILLed mid-extraction (${HAVE_SHARED_DATA ? 'present' : SHARED_DATA_MISSING})`, () => {
  it('the retried activity resumes from its heartbeat and the segments equal an undisturbed run', async () => {
    const dir = testDir('knowledge-restart');
    // A bigger input: the enwiki excerpt's pages and three renumbered copies, so extraction lasts long enough.
    const xml = execFileSync('bzip2', ['-dc', sharedData(EN_EXCERPT)], { maxBuffer: 1 << 27 }).toString('utf8');
    const file = path.join(dir, 'enwiki-doubled.xml.bz2');
    writeFileSync(file, execFileSync('bzip2', ['-1', '-c'], { input: Buffer.from(doublePages(xml, 3), 'utf8'), maxBuffer: 1 << 28 }));
    const flush = { segments: 10 };
    // A short heartbeat timeout makes the SDK send heartbeats often (it throttles them to 80% of it).
    const config = testConfig(dir, NO_LLM, { languages: { en: {} }, retry: { heartbeatTimeoutMs: 1_000 } });
    const client = await testClient(config);

    const first = spawnWorker(config, dir);
    let killedAt: Cursor | undefined;
    const buildId = `kn-${path.basename(dir)}-killed`;
    const disturbed = extract(client, config, dir, 'en', file, { flush, buildId });
    disturbed.catch(() => undefined); // awaited below; a failure before then must not go unhandled
    try {
      const workflowId = stageWorkflowId(buildId, 'en', 'knowledge');
      // Kill once the server holds a cursor with written parts and the extraction is far from done.
      // Generous: on a loaded 2-core machine the worker process alone can take a minute to start.
      await waitUntil(async () => {
        killedAt = await heartbeatOf(client, workflowId);
        if ((killedAt?.partCounts.length ?? 0) >= 1) return true;
        const status = (await client.workflow.getHandle(workflowId).describe().catch(() => undefined))?.status.name;
        if (status && status !== 'RUNNING') throw new Error(`extraction ended (${status}) before a heartbeat with written parts was seen`);
        return false;
      }, 280_000, 'a heartbeat with written parts');
      first.child.kill('SIGKILL');
      await first.exited;
    } finally {
      first.child.kill('SIGKILL');
    }
    const second = spawnWorker(config, dir);
    let resumed: Run;
    try {
      resumed = await disturbed;
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
    const [extract0] = resumed.result.extracts;
    expect(extract0.attempt).toBeGreaterThanOrEqual(2);
    expect(extract0.resumedParts).toBeGreaterThanOrEqual(killedAt!.partCounts.length);
    expectFunnelAddsUp(resumed.result.funnel, resumed.result.pagesRead);

    const worker = await startWorker(config);
    try {
      const undisturbed = await extract(client, config, dir, 'en', file, { flush });
      expect(undisturbed.result.extracts[0].resumedParts).toBe(0);
      expect(texts(resumed.segments)).toEqual(texts(undisturbed.segments));
      expect({ ...resumed.result.funnel.select, ms: 0 }).toEqual({ ...undisturbed.result.funnel.select, ms: 0 });
      expect(resumed.result.pagesRead).toBe(undisturbed.result.pagesRead);
      expect(resumed.result.extracts[0].parts).toBe(undisturbed.result.extracts[0].parts);
    } finally {
      await worker.stop();
    }
  });
});

type Cursor = { partCounts: number[]; lastPageId?: number };

/** The heartbeat details the server holds for the workflow's pending extraction, if any. */
async function heartbeatOf(client: Client, workflowId: string): Promise<Cursor | undefined> {
  const { defaultPayloadConverter } = await import('@temporalio/common');
  const d = await client.workflow.getHandle(workflowId).describe().catch(() => undefined);
  const pending = d?.raw.pendingActivities?.find((a) => a.activityType?.name === 'extractPages');
  const payload = pending?.heartbeatDetails?.payloads?.[0];
  return payload ? defaultPayloadConverter.fromPayload<Cursor>(payload as never) : undefined;
}

function causes(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = err as { cause?: unknown; message?: string; type?: string } | undefined; e; e = e.cause as typeof e) out.push({ message: e.message, type: e.type });
  return out;
}

/** The pages of a MediaWiki export, as [prefix, pages, suffix]. */
function splitPages(xml: string): { head: string; pages: string[]; tail: string } {
  const first = xml.indexOf('<page>');
  const end = xml.lastIndexOf('</page>') + '</page>'.length;
  const pages = xml.slice(first, end).split(/(?<=<\/page>)/);
  return { head: xml.slice(0, first), pages, tail: xml.slice(end) };
}

/** The export followed by a copy of its pages under new ids (ascending, as in real dumps). */
function doublePages(xml: string, copies = 1): string {
  const { head, pages, tail } = splitPages(xml);
  const renumbered = (k: number) => pages.map((p) => p.replace(/<id>(\d+)<\/id>/, (_m, id: string) => `<id>${Number(id) + k * 10_000_000}</id>`)).join('');
  return head + pages.join('') + Array.from({ length: copies }, (_, k) => renumbered(k + 1)).join('') + tail;
}

/** A multistream bz2 (header stream, `per` pages per stream, footer stream) and its `offset:id:title` index. */
function buildMultistream(xml: string, per: number): { bytes: Buffer; index: string } {
  const { head, pages, tail } = splitPages(xml);
  const groups: string[][] = [];
  for (let i = 0; i < pages.length; i += per) groups.push(pages.slice(i, i + per));
  const streams = [head, ...groups.map((g) => g.join('')), tail].map((p) => execFileSync('bzip2', ['-c'], { input: Buffer.from(p, 'utf8') }));
  const lines: string[] = [];
  let at = streams[0].length;
  groups.forEach((g, k) => {
    for (const p of g) lines.push(`${at}:${/<id>(\d+)<\/id>/.exec(p)![1]}:${/<title>([^<]*)<\/title>/.exec(p)![1]}`);
    at += streams[k + 1].length;
  });
  return { bytes: Buffer.concat(streams), index: lines.join('\n') + '\n' };
}
