/**
 * Child process of bench/extract.ts: the knowledge pipeline alone (readSelectedPages + prepareDocument), no
 * Temporal, over a dump or one byte range of it. Prints its counts as one JSON line. It imports nothing of
 * Temporal, so its CPU time and peak RSS are the pipeline's own.
 *
 *   npx tsx bench/extract-plain.ts DUMP LANG [START END] [--clean-only]
 *
 * `--clean-only` stops after page selection and wikitext cleaning: the same job as wikiextractor's.
 */
import { knowledgeTools } from '../src/activities/knowledge';
import { resolveConfig } from '../src/config';
import { loadLangId } from '../src/core/text/lang-id';
import { emptyKnowledgeFunnel, prepareDocument } from '../src/core/text/pipeline';
import { cleanWikitext } from '../src/core/wiki/wikitext';
import { readSelectedPages } from '../src/io/dump-source';

async function main(file: string, lang: string, start?: number, end?: number, cleanOnly = false): Promise<void> {
  const config = resolveConfig({ languages: { [lang]: {} } });
  const entry = config.languages[lang]!;
  const tools = knowledgeTools(await loadLangId());
  const options = { ...config.knowledge, lang, fasttextLabel: entry.fasttextLabel, scriptConversion: entry.scriptConversion };
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

const cleanOnly = process.argv.includes('--clean-only');
const [file, lang, start, end] = process.argv.slice(2).filter((a) => a !== '--clean-only');
main(file, lang, start === undefined ? undefined : Number(start), end === undefined ? undefined : Number(end), cleanOnly).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
