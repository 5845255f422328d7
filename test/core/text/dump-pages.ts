/**
 * Test-only page reader for the shared dump excerpts: `bzip2 -dc` plus a regex page splitter, so these
 * tests do not depend on the streaming reader being written in parallel.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sharedData } from '../../support/shared-data';
import type { RawPage } from '../../../src/core/text/pipeline';

/** One shared dump file and the language of its text (from its folder). */
export interface DumpFile {
  lang: string;
  file: string;
}

/** Every wiki dump of the five target languages under ../shared/data/wiki (not the fatwiki multistream). */
export function targetDumps(): DumpFile[] {
  const out: DumpFile[] = [];
  for (const lang of ['en', 'zh', 'ru', 'fr', 'es']) {
    const dir = sharedData(`wiki/${lang}`);
    for (const name of readdirSync(dir).sort()) out.push({ lang, file: path.join(dir, name) });
  }
  return out;
}

const XML_ENTITIES: Record<string, string> = { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' };

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|quot|apos|amp|#\d+|#x[0-9a-fA-F]+);/g, (_m, e: string) =>
    e[0] === '#' ? String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)) : XML_ENTITIES[e],
  );
}

/** All `<page>` elements of a dump (plain, bz2, bare fragment or truncated) as raw pages. */
export function readPages(file: string): RawPage[] {
  const xml = file.endsWith('.bz2')
    ? execFileSync('bzip2', ['-dc', file], { maxBuffer: 1 << 30 }).toString('utf8')
    : readFileSync(file, 'utf8');
  const pages: RawPage[] = [];
  for (const m of xml.matchAll(/<page>([\s\S]*?)<\/page>/g)) {
    const body = m[1];
    const text = /<text[^>]*?(?:\/>|>([\s\S]*?)<\/text>)/.exec(body)?.[1] ?? '';
    pages.push({
      ns: Number(/<ns>(\d+)<\/ns>/.exec(body)?.[1] ?? 0),
      pageId: Number(/<id>(\d+)<\/id>/.exec(body)?.[1] ?? 0),
      title: unescapeXml(/<title>([\s\S]*?)<\/title>/.exec(body)?.[1] ?? ''),
      redirect: /<redirect\b/.test(body),
      text: unescapeXml(text),
    });
  }
  return pages;
}

/** Main-namespace, non-redirect pages: what page selection hands to this stage. */
export function articles(file: string): RawPage[] {
  return readPages(file).filter((p) => p.ns === 0 && !p.redirect);
}
