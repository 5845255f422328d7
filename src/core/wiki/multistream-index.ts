/** Multistream dump index (`offset:pageid:title`) → bz2 stream byte ranges → balanced range groups. */

/** One index line: the byte offset of the bz2 stream holding the page. */
export interface IndexEntry {
  offset: number;
  pageId: number;
  title: string;
}

/** A byte range [start, end) of the dump file; a range of whole streams is itself a valid bz2 input. */
export interface ByteRange {
  start: number;
  end: number;
}

/** Consecutive streams handed to one parallel activity. */
export interface RangeGroup extends ByteRange {
  streams: number;
}

/** Parses `offset:pageid:title` (the title may itself contain ':'); undefined for a blank or malformed line. */
export function parseIndexLine(line: string): IndexEntry | undefined {
  const a = line.indexOf(':');
  const b = a < 0 ? -1 : line.indexOf(':', a + 1);
  if (b < 0) return undefined;
  const offset = Number(line.slice(0, a));
  const pageId = Number(line.slice(a + 1, b));
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(pageId) || a === 0 || b === a + 1) return undefined;
  return { offset, pageId, title: line.slice(b + 1).replace(/\r$/, '') };
}

/** Parses a whole index text; malformed lines are skipped. */
export function parseIndex(text: string): IndexEntry[] {
  const out: IndexEntry[] = [];
  for (const line of text.split('\n')) {
    const e = parseIndexLine(line);
    if (e) out.push(e);
  }
  return out;
}

/**
 * Distinct stream ranges from stream offsets (any order, duplicates allowed): each stream ends where the
 * next begins, the last at `fileSize` (so it also covers the closing `</mediawiki>` stream).
 */
export function streamRanges(offsets: Iterable<number>, fileSize: number): ByteRange[] {
  const sorted = [...new Set(offsets)].sort((x, y) => x - y);
  const out: ByteRange[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const end = i + 1 < sorted.length ? sorted[i + 1] : fileSize;
    if (sorted[i] >= fileSize) throw new Error(`index offset ${sorted[i]} is beyond the dump size ${fileSize}`);
    out.push({ start: sorted[i], end });
  }
  return out;
}

/**
 * Splits consecutive stream ranges into at most `n` contiguous groups of roughly equal bytes: a group
 * closes once the running total reaches its share, so no group exceeds the ideal by more than one stream.
 */
export function groupRanges(ranges: ByteRange[], n: number): RangeGroup[] {
  if (ranges.length === 0) return [];
  const k = Math.max(1, Math.min(Math.floor(n), ranges.length));
  const total = ranges[ranges.length - 1].end - ranges[0].start;
  const groups: RangeGroup[] = [];
  let current: RangeGroup | undefined;
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i];
    if (!current) current = { start: r.start, end: r.end, streams: 0 };
    current.end = r.end;
    current.streams += 1;
    const left = ranges.length - i - 1;
    const groupsLeft = k - groups.length - 1;
    const share = (total * (groups.length + 1)) / k;
    // Close when this group has its share, or when every remaining stream must open its own group.
    if (groupsLeft > 0 && (current.end - ranges[0].start >= share || left === groupsLeft)) {
      groups.push(current);
      current = undefined;
    }
  }
  if (current) groups.push(current);
  return groups;
}
