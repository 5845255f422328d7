/** Takes the first plain-prose paragraphs of an article from a shared MediaWiki dump, for prompt rendering tests. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { sharedData } from '../../support/shared-data';

/** One real dump file per pack language (plain XML where the folder has one; en only exists as bz2). */
export const DUMP_BY_LANG: Record<string, string> = {
  en: 'wiki/en/dbpedia-minidump-enwiki.xml.bz2',
  zh: 'wiki/zh/zhwiki-test-pages.xml',
  ru: 'wiki/ru/ruwiki-test.xml',
  fr: 'wiki/fr/frwiki-20121230-id3.xml',
  es: 'wiki/es/eswiki-test.xml',
};

function readDump(relative: string): string {
  const file = sharedData(relative);
  if (file.endsWith('.bz2')) return execFileSync('bzip2', ['-dc', file], { maxBuffer: 64 * 1024 * 1024 }).toString('utf8');
  return readFileSync(file, 'utf8');
}

function decode(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#0?39;/g, "'").replace(/&amp;/g, '&');
}

/** Strips the markup a prose line commonly holds; returns undefined when what remains is not clean prose. */
function prose(line: string): string | undefined {
  let s = line;
  s = s.replace(/<ref[^>]*\/>/g, '').replace(/<ref[^>]*>[\s\S]*?<\/ref>/g, '');
  for (let i = 0; i < 5; i++) s = s.replace(/\{\{[^{}]*\}\}/g, '');
  s = s.replace(/-\{([^{}:;]*)\}-/g, '$1');
  s = s.replace(/\[\[[^\]|]*\|([^\]]*)\]\]/g, '$1').replace(/\[\[([^\]]*)\]\]/g, '$1');
  s = s.replace(/'{2,}/g, '').replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim();
  if (/[{}[\]|<>=]/.test(s) || /^[*#:;!]/.test(s)) return undefined;
  return s;
}

/** The title and first clean paragraphs (at least `minChars` together) of the first usable ns0 article. */
export function sharedBackground(lang: string, minChars: number): { title: string; text: string } {
  const xml = readDump(DUMP_BY_LANG[lang]);
  for (const page of xml.match(/<page>[\s\S]*?<\/page>/g) ?? []) {
    if (!/<ns>0<\/ns>/.test(page) || /<redirect/.test(page)) continue;
    const title = decode(/<title>([^<]*)<\/title>/.exec(page)?.[1] ?? '');
    const body = decode(/<text[^>]*>([\s\S]*?)<\/text>/.exec(page)?.[1] ?? '');
    const paragraphs: string[] = [];
    for (const line of body.split('\n')) {
      const clean = prose(line);
      if (clean && [...clean].length >= 80) paragraphs.push(clean);
      if (paragraphs.join('\n').length >= minChars) return { title, text: paragraphs.join('\n') };
    }
  }
  throw new Error(`no prose paragraphs of ${minChars} chars in ${DUMP_BY_LANG[lang]}`);
}
