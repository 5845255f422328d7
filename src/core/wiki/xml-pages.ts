/** Streaming MediaWiki-export XML → raw pages, holding at most one page in memory (§2.1.1 input). */

/** One `<page>` of a dump, fields as exported; `text` is the latest revision's wikitext, entities decoded. */
export interface RawPage {
  ns: number;
  pageId: number;
  revisionId: number;
  title: string;
  redirect: boolean;
  text: string;
}

/** A page (or a stretch of input) that could not be read; the stream goes on, the caller counts `error`. */
export interface PageError {
  error: string;
  pageId?: number;
  /** True when the page was cut by a decoder break rather than being malformed in the XML itself. */
  cut?: boolean;
}

/** What the parser yields. */
export type PageItem = RawPage | PageError;

/** In-band marker from the decoder: input before and after it is not contiguous (damaged or skipped block). */
export interface StreamBreak {
  break: true;
  /** Counted damage reason (e.g. `dump_corrupt_block`); absent for a break that only re-synchronises. */
  reason?: string;
  /** The decoder will re-read from an earlier point, so text already seen may come again. */
  rewind?: boolean;
}

/** Decoded text chunks, optionally interleaved with breaks. */
export type XmlChunk = string | StreamBreak;

/**
 * Stands in for each invalid UTF-8 sequence in decoded text. U+FFFF is not an XML character, so unlike
 * U+FFFD it cannot come from a well-formed source: a page containing it had undecodable bytes.
 */
export const INVALID_UTF8_MARK = '\uFFFF';

/** Reasons this parser yields. */
export const PARSE_ERROR = 'wiki_parse_error';
export const TRUNCATED = 'dump_truncated';

/** Options of `parsePages`. */
export interface ParsePagesOptions {
  /** Input is a byte range of a larger dump (multistream): an unclosed `<mediawiki>` root is not truncation. */
  partial?: boolean;
}

/** True for a page item, false for an error item. */
export function isPageError(item: PageItem): item is PageError {
  return (item as PageError).error !== undefined;
}

const PAGE_OPEN = '<page>';
const PAGE_CLOSE = '</page>';
// Longest tag we may find split across two chunks; kept as overlap when discarding inter-page text.
const TAIL_KEEP = 16;

const ENTITY = /&(lt|gt|amp|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/g;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Decodes the XML entities MediaWiki emits (the five named ones and numeric references). */
export function decodeEntities(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(ENTITY, (_m, e: string) => {
    if (e.charCodeAt(0) !== 35) return NAMED[e];
    const cp = e.charCodeAt(1) === 120 ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : INVALID_UTF8_MARK;
  });
}

/** Text between `<tag>` and `</tag>` found in [from, to), or undefined. */
function element(s: string, tag: string, from: number, to: number): string | undefined {
  const open = s.indexOf(`<${tag}>`, from);
  if (open < 0 || open >= to) return undefined;
  const start = open + tag.length + 2;
  const close = s.indexOf(`</${tag}>`, start);
  if (close < 0 || close > to) return undefined;
  return s.slice(start, close);
}

/** Namespace key by lower-cased prefix, read from `<siteinfo>` (needed for export-0.3, which has no `<ns>`). */
function parseNamespaces(siteinfo: string): Map<string, number> {
  const map = new Map<string, number>();
  const re = /<namespace\s+key="(-?\d+)"[^>]*>([^<]*)<\/namespace>/g;
  for (let m = re.exec(siteinfo); m; m = re.exec(siteinfo)) {
    const name = decodeEntities(m[2]).trim().toLowerCase();
    if (name) map.set(name, Number(m[1]));
  }
  return map;
}

/** Parses one `<page>…</page>` string; returns an error item when a required field is missing. */
export function parsePageXml(p: string, namespaces?: Map<string, number>): PageItem {
  let revStart = p.lastIndexOf('<revision>');
  if (revStart < 0) revStart = p.lastIndexOf('<revision ');
  const head = revStart < 0 ? p.length : revStart;
  const idText = element(p, 'id', 0, head);
  const pageId = idText === undefined ? NaN : Number(idText.trim());
  const fail = (): PageError => (Number.isSafeInteger(pageId) ? { error: PARSE_ERROR, pageId } : { error: PARSE_ERROR });
  const titleRaw = element(p, 'title', 0, head);
  if (titleRaw === undefined || !Number.isSafeInteger(pageId) || revStart < 0) return fail();
  const title = decodeEntities(titleRaw);
  const revIdText = element(p, 'id', revStart, p.length);
  const revisionId = revIdText === undefined ? NaN : Number(revIdText.trim());
  if (!Number.isSafeInteger(revisionId)) return fail();
  const textOpen = p.indexOf('<text', revStart);
  if (textOpen < 0) return fail();
  const tagEnd = p.indexOf('>', textOpen);
  if (tagEnd < 0) return fail();
  let text = '';
  if (p.charCodeAt(tagEnd - 1) !== 47 /* '/' : <text … /> is an empty or deleted text */) {
    const textClose = p.indexOf('</text>', tagEnd);
    if (textClose < 0) return fail();
    text = decodeEntities(p.slice(tagEnd + 1, textClose));
  }
  const nsText = element(p, 'ns', 0, head);
  const ns = nsText !== undefined ? Number(nsText.trim()) : namespaceOf(title, namespaces);
  if (!Number.isSafeInteger(ns)) return fail();
  const redirectAt = p.indexOf('<redirect', 0);
  return { ns, pageId, revisionId, title, redirect: redirectAt >= 0 && redirectAt < head, text };
}

/** Namespace from a `Prefix:` title against siteinfo names; 0 when unknown (no siteinfo, or main). */
function namespaceOf(title: string, namespaces?: Map<string, number>): number {
  const colon = title.indexOf(':');
  if (colon <= 0 || !namespaces) return 0;
  return namespaces.get(title.slice(0, colon).trim().toLowerCase()) ?? 0;
}

/** Page id of a partial page, when its `<id>` already arrived. */
function partialId(s: string, from: number): number | undefined {
  const rev = s.indexOf('<revision', from);
  const id = element(s, 'id', from, rev < 0 ? s.length : rev);
  const n = id === undefined ? NaN : Number(id.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Yields every page of a MediaWiki export read from decoded text chunks: with or without `<mediawiki>`
 * and `<siteinfo>`, bare `<page>` fragments, export-0.3 (no `<ns>`), any indentation. Never throws on bad
 * input: a malformed page, a page cut by a `StreamBreak`, and a truncated end each become one error item.
 */
export async function* parsePages(chunks: AsyncIterable<XmlChunk>, opts: ParsePagesOptions = {}): AsyncGenerator<PageItem> {
  let buf = '';
  let pos = 0; // start of unconsumed text in buf
  let inPage = false;
  let searchFrom = 0; // where to resume looking for </page>
  let rootOpen = false;
  let rootClosed = false;
  let namespaces: Map<string, number> | undefined;

  for await (const chunk of chunks) {
    if (typeof chunk !== 'string') {
      if (chunk.reason) yield { error: chunk.reason };
      if (inPage) {
        const id = partialId(buf, pos);
        yield id === undefined ? { error: PARSE_ERROR, cut: true } : { error: PARSE_ERROR, pageId: id, cut: true };
      }
      // After a break, text up to the next <page> is the tail of an unknown page: skip it.
      buf = '';
      pos = 0;
      inPage = false;
      searchFrom = 0;
      continue;
    }
    buf = pos > 0 ? buf.slice(pos) + chunk : buf + chunk;
    searchFrom -= pos;
    pos = 0;
    for (;;) {
      if (!inPage) {
        const open = buf.indexOf(PAGE_OPEN, pos);
        const limit = open < 0 ? buf.length : open;
        const site = buf.indexOf('<siteinfo', pos);
        if (site >= 0 && site < limit) {
          const end = buf.indexOf('</siteinfo>', site);
          if (end < 0) {
            pos = site;
            break;
          }
          namespaces = parseNamespaces(buf.slice(site, end));
          rootOpen = true;
          pos = end + 11;
          continue;
        }
        const between = buf.slice(pos, limit);
        if (between.includes('<mediawiki')) rootOpen = true;
        if (between.includes('</mediawiki>')) rootClosed = true;
        if (open < 0) {
          pos = Math.max(pos, buf.length - TAIL_KEEP);
          break;
        }
        inPage = true;
        pos = open;
        searchFrom = open + PAGE_OPEN.length;
      }
      const close = buf.indexOf(PAGE_CLOSE, searchFrom);
      if (close < 0) {
        searchFrom = Math.max(searchFrom, buf.length - PAGE_CLOSE.length);
        break;
      }
      // A second <page> before </page> means the first one lost its end (damage without a break marker).
      const inner = buf.indexOf(PAGE_OPEN, pos + PAGE_OPEN.length);
      if (inner >= 0 && inner < close) {
        const id = partialId(buf.slice(0, inner), pos);
        yield id === undefined ? { error: PARSE_ERROR } : { error: PARSE_ERROR, pageId: id };
        pos = inner;
        searchFrom = inner + PAGE_OPEN.length;
        continue;
      }
      const end = close + PAGE_CLOSE.length;
      yield parsePageXml(buf.slice(pos, end), namespaces);
      pos = end;
      inPage = false;
    }
  }
  if (inPage) {
    const id = partialId(buf, pos);
    yield id === undefined ? { error: TRUNCATED } : { error: TRUNCATED, pageId: id };
  } else if (rootOpen && !rootClosed && !opts.partial) {
    yield { error: TRUNCATED };
  }
}

/** Adapts a plain string iterable (tests, in-memory input) to `parsePages`. */
export async function* fromStrings(parts: Iterable<string>): AsyncGenerator<string> {
  for (const p of parts) yield p;
}
