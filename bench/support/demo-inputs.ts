/** What the benches that replay the demo's calls share: their `--name=value` flags and the demo's segments. */
import path from 'node:path';
import type { Config } from '../../src/config';
import type { Segment } from '../../src/core/records';
import type { LangId } from '../../src/core/text/lang-id';
import { emptyKnowledgeFunnel, prepareDocument } from '../../src/core/text/pipeline';
import { countTokens } from '../../src/core/text/tokens';
import { readSelectedPages } from '../../src/io/dump-source';

const REPO = path.resolve(__dirname, '..', '..');

/** The value of `--name=value` on the command line, if given. */
export function flag(name: string): string | undefined {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/** The first `n` segments the config's knowledge stage makes of a language's dump (relative paths: the repo's). */
export async function segmentsOf(config: Config, lang: string, langId: LangId, n: number): Promise<Segment[]> {
  const entry = config.languages[lang]!;
  const options = { ...config.knowledge, lang, fasttextLabel: entry.fasttextLabel, scriptConversion: entry.scriptConversion };
  const funnel = emptyKnowledgeFunnel();
  const out: Segment[] = [];
  for await (const ev of readSelectedPages(path.resolve(REPO, entry.dump!), { lang, disambiguationTemplates: entry.disambiguationTemplates })) {
    if (ev.kind !== 'page') continue;
    const prepared = prepareDocument(ev.page, options, { langId, countTokens }, funnel);
    if (prepared.kept) out.push(...prepared.segments);
    if (out.length >= n) break;
  }
  return out.slice(0, n);
}
