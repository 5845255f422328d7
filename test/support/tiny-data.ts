/**
 * Tiny inputs for pipeline tests, generated per test: a MediaWiki export whose articles are built from the fake
 * LLM's native sentences (so lid.176 recognises each language), and small English SFT files.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ConfigInput } from '../../src/config';
import { FAKE_SENTENCES, type FakeLang } from './fake-openai';

/** Writes `<lang>wiki.xml` with `articles` long-enough articles, one redirect and one stub; returns its path. */
export function writeTinyDump(dir: string, lang: FakeLang, articles = 2): string {
  const bank = FAKE_SENTENCES[lang];
  const sep = lang === 'zh' ? '' : ' ';
  const pages: string[] = [];
  let id = 10;
  for (let a = 0; a < articles; a++) {
    const paragraphs = Array.from({ length: 6 }, (_, p) => Array.from({ length: 4 }, (_, s) => bank[(a * 7 + p * 3 + s) % bank.length]).join(sep));
    const text = `${paragraphs[0]}\n\n== ${lang.toUpperCase()} ${a} ==\n${paragraphs.slice(1).join('\n\n')}\n\n[[Category:Test]]`;
    pages.push(page(id++, `Article ${a}`, 0, text));
  }
  pages.push(page(id++, 'Redirected', 0, '#REDIRECT [[Article 0]]', true));
  pages.push(page(id++, 'Stub', 0, bank[0]!));
  const xml = `<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" xml:lang="${lang}">\n${pages.join('\n')}\n</mediawiki>\n`;
  const file = path.join(dir, `${lang}wiki.xml`);
  writeFileSync(file, xml);
  return file;
}

function page(id: number, title: string, ns: number, text: string, redirect = false): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<page><title>${esc(title)}</title><ns>${ns}</ns><id>${id}</id>${redirect ? `<redirect title="Article 0" />` : ''}<revision><id>${id * 10}</id><text xml:space="preserve">${esc(text)}</text></revision></page>`;
}

/** Thresholds scaled to the tiny articles (a few hundred tokens) and the fake LLM's short answers. */
export const TINY_THRESHOLDS: ConfigInput = {
  knowledge: { minDocTokens: 60, maxDocTokens: 5_000, minSegmentTokens: 40, maxSegmentTokens: 160 },
  dialogue: { maxTurns: 2, minAnswerTokens: 4, maxQuestionTokens: 64, maxAnswerTokens: 128 },
};

/** Languages of a tiny build: each with its tiny dump and `dialogues` chat_specific dialogues. */
export function tinyLanguages(dir: string, langs: FakeLang[], dialogues = 1): NonNullable<ConfigInput['languages']> {
  return Object.fromEntries(langs.map((lang) => [lang, { dump: writeTinyDump(dir, lang), chatSpecific: dialogues }]));
}
