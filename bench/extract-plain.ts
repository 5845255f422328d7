/**
 * Child process of bench/extract.ts: the knowledge pipeline alone (readSelectedPages + prepareDocument), no
 * Temporal, over a dump or one byte range of it. Prints its counts as one JSON line. It imports nothing of
 * Temporal, so its CPU time and peak RSS are the pipeline's own.
 *
 *   npx tsx bench/extract-plain.ts DUMP LANG [START END] [--clean-only]
 *
 * `--clean-only` stops after page selection and wikitext cleaning: the same job as wikiextractor's.
 * `--floor` cleans every page untimed, then times only the work the paper requires of each cleaned document
 * whatever the implementation: lid.176 on its prefix and its cl100k count (second pass, caches warm). Decoding
 * added to it (bzip2's CPU, measured by the caller) is a lower bound on any extraction's cost per MB.
 */
import { knowledgeTools } from '../src/activities/knowledge';
import { resolveConfig } from '../src/config';
import { loadLangId } from '../src/core/text/lang-id';
import { emptyKnowledgeFunnel, prepareDocument, type KnowledgeTools } from '../src/core/text/pipeline';
import { cleanWikitext } from '../src/core/wiki/wikitext';
import { readSelectedPages } from '../src/io/dump-source';

async function main(file: string, lang: string, start?: number, end?: number, cleanOnly = false): Promise<void> {
  const config = resolveConfig({ languages: { [lang]: {} } });
  const entry = config.languages[lang]!;
  const tools = knowledgeTools(await loadLangId());
  const options = { ...config.knowledge, lang, fasttextLabel: entry.fasttextLabel, scriptConversion: entry.scriptConversion };
  if (process.argv.includes('--floor')) return floor(file, lang, tools, options.maxDocTokens);
  const funnel = emptyKnowledgeFunnel();
  let pages = 0;
  let segments = 0;
  for await (const ev of readSelectedPages(file, { lang, disambiguationTemplates: entry.disambiguationTemplates, start, end })) {
    pages++;
    if (ev.kind !== 'page') continue;
    if (cleanOnly) {
      if (cleanWikitext(ev.page.text).ok) segments++;
      continue;
    }
    const prepared = prepareDocument(ev.page, options, tools, funnel);
    if (prepared.kept) segments += prepared.segments.length;
  }
  const stepMs = Object.fromEntries(Object.entries(funnel).map(([k, s]) => [k, Math.round(s.ms)]));
  console.log(JSON.stringify({ pages, segments, stepMs, languageDrops: funnel.language.dropped }));
}

/** Prints the ms of language id and token counting over every cleaned page (see `--floor` above). */
async function floor(file: string, lang: string, tools: KnowledgeTools, maxDocTokens: number): Promise<void> {
  const texts: string[] = [];
  for await (const ev of readSelectedPages(file, { lang })) {
    if (ev.kind !== 'page') continue;
    const cleaned = cleanWikitext(ev.page.text);
    if (cleaned.ok) texts.push(cleaned.text);
  }
  let lidMs = 0;
  let countMs = 0;
  for (let pass = 0; pass < 2; pass++) {
    lidMs = 0;
    countMs = 0;
    for (const text of texts) {
      const t0 = performance.now();
      tools.langId.detect(text);
      const t1 = performance.now();
      tools.countTokens(text, maxDocTokens);
      countMs += performance.now() - t1;
      lidMs += t1 - t0;
    }
  }
  console.log(JSON.stringify({ docs: texts.length, chars: texts.reduce((n, t) => n + t.length, 0), lidMs, countMs }));
}

const flags = new Set(['--clean-only', '--floor']);
const cleanOnly = process.argv.includes('--clean-only');
const [file, lang, start, end] = process.argv.slice(2).filter((a) => !flags.has(a));
main(file, lang, start === undefined ? undefined : Number(start), end === undefined ? undefined : Number(end), cleanOnly).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
