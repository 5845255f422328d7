import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { groupRanges, parseIndex, parseIndexLine, streamRanges } from '../../../src/core/wiki/multistream-index';
import { HAVE_SHARED_DATA, SHARED_DATA_MISSING, sharedData } from '../../support/shared-data';

describe('parseIndexLine', () => {
  it.each([
    ['568:2:MediaWiki:Sitesupport-url', { offset: 568, pageId: 2, title: 'MediaWiki:Sitesupport-url' }],
    ['600:10:AccessibleComputing', { offset: 600, pageId: 10, title: 'AccessibleComputing' }],
    ['7:8:a:b:c\r', { offset: 7, pageId: 8, title: 'a:b:c' }],
    ['9:11:', { offset: 9, pageId: 11, title: '' }],
  ])('%s', (line, expected) => {
    expect(parseIndexLine(line)).toEqual(expected);
  });

  it.each(['', 'garbage', '12:abc:Title', ':5:Title', '5::Title', '-1:5:T'])('rejects %j', (line) => {
    expect(parseIndexLine(line)).toBeUndefined();
  });

  it('parseIndex skips malformed lines', () => {
    expect(parseIndex('1:2:A\nbad\n1:3:B\n').map((e) => e.pageId)).toEqual([2, 3]);
  });
});

describe('streamRanges', () => {
  it('turns repeated, unordered offsets into consecutive ranges ending at the file size', () => {
    expect(streamRanges([300, 100, 100, 200, 300], 450)).toEqual([
      { start: 100, end: 200 },
      { start: 200, end: 300 },
      { start: 300, end: 450 },
    ]);
  });

  it('rejects an offset beyond the file', () => {
    expect(() => streamRanges([10, 500], 400)).toThrow(/beyond the dump size/);
  });
});

describe('groupRanges', () => {
  const ranges = streamRanges([0, 10, 30, 35, 90, 100, 160, 170, 180], 200);

  it.each([1, 2, 3, 4, 9, 20])('covers every stream once, contiguously, in at most %i groups', (n) => {
    const groups = groupRanges(ranges, n);
    expect(groups.length).toBeLessThanOrEqual(Math.min(n, ranges.length));
    expect(groups[0].start).toBe(0);
    expect(groups[groups.length - 1].end).toBe(200);
    for (let i = 1; i < groups.length; i++) expect(groups[i].start).toBe(groups[i - 1].end);
    expect(groups.reduce((s, g) => s + g.streams, 0)).toBe(ranges.length);
  });

  it('balances bytes: no group exceeds its share by more than its largest stream', () => {
    const groups = groupRanges(ranges, 3);
    expect(groups).toHaveLength(3);
    const largest = Math.max(...ranges.map((r) => r.end - r.start));
    for (const g of groups) expect(g.end - g.start).toBeLessThanOrEqual(200 / 3 + largest);
  });

  it('gives one group per stream when asked for more groups than streams', () => {
    expect(groupRanges(ranges, 50)).toHaveLength(ranges.length);
    expect(groupRanges([], 4)).toEqual([]);
  });
});

describe.skipIf(!HAVE_SHARED_DATA)(`real fatwiki index (${HAVE_SHARED_DATA ? 'shared data' : SHARED_DATA_MISSING})`, () => {
  it('has 3,566 lines over 36 streams, grouped into 4 balanced ranges', () => {
    const text = execFileSync('bzip2', ['-dc', sharedData('wiki/multistream/fatwiki-20240920-pages-articles-multistream-index.txt.bz2')]).toString('utf8');
    const entries = parseIndex(text);
    expect(entries).toHaveLength(3566);
    const size = statSync(sharedData('wiki/multistream/fatwiki-20240920-pages-articles-multistream.xml.bz2')).size;
    const ranges = streamRanges(entries.map((e) => e.offset), size);
    expect(ranges).toHaveLength(36);
    const groups = groupRanges(ranges, 4);
    expect(groups).toHaveLength(4);
    expect(groups.reduce((s, g) => s + g.streams, 0)).toBe(36);
  });
});
