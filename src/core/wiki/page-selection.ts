/** Page selection (§2.1.1): main-namespace articles only; redirects, disambiguation and empty pages dropped. */
import { KEEP, drop, type Verdict } from '../stats';
import { INVALID_UTF8_MARK, type RawPage } from './xml-pages';

/**
 * Disambiguation template names per language (lower case, spaces not underscores). A page transcluding
 * any of them, or carrying `__DISAMBIG__`, is a disambiguation page. The language config carries these.
 */
export const DISAMBIGUATION_TEMPLATES: Record<string, string[]> = {
  en: [
    'disambiguation', 'disambig', 'disamb', 'dab', 'hndis', 'geodis', 'numberdis', 'mathdab',
    'letter-number combination disambiguation', 'airport disambiguation', 'call sign disambiguation',
    'chinese title disambiguation', 'species latin name disambiguation', 'human name disambiguation',
    'place name disambiguation', 'road disambiguation', 'school disambiguation', 'hospital disambiguation',
  ],
  zh: ['disambig', 'disambiguation', 'dab', '消歧义', '消歧義', '消除歧义', '消除歧義', 'disambig-cleanup'],
  ru: ['неоднозначность', 'многозначность', 'disambig', 'disambiguation', 'однофамильцы', 'список однофамильцев', 'омонимы'],
  fr: ['homonymie', 'disambig', 'disambiguation', 'patronymie'],
  es: ['desambiguación', 'desambiguacion', 'disambig', 'desambig', 'des', 'disambiguation'],
};

/** Redirect magic words per language; `#redirect` is recognised in every language (MediaWiki keeps the English alias). */
export const REDIRECT_WORDS: Record<string, string[]> = {
  en: ['#redirect'],
  zh: ['#重定向', '#redirect'],
  ru: ['#перенаправление', '#перенапр', '#redirect'],
  fr: ['#redirection', '#redirect'],
  es: ['#redirección', '#redireccion', '#redirect'],
};

/** Options of `selectPage`. */
export interface PageSelectionOptions {
  /** Wiki language code; picks the default template and redirect lists. */
  lang: string;
  /** Overrides `DISAMBIGUATION_TEMPLATES[lang]`. */
  disambiguationTemplates?: string[];
  /** Overrides `REDIRECT_WORDS[lang]`. */
  redirectWords?: string[];
}

const TEMPLATE_CALL = /\{\{\s*(?:template\s*:\s*)?([^{}|\n]+?)\s*(?:\||\}\})/gi;

/** Normalised template name as MediaWiki resolves it: case-insensitive here, `_` = space, runs of spaces collapsed. */
function normaliseName(name: string): string {
  return name.replace(/_/g, ' ').replace(/\s+/g, ' ').trim().toLowerCase();
}

/** True when the wikitext transcludes one of `names` (already normalised) or has `__DISAMBIG__`. */
export function isDisambiguation(text: string, names: ReadonlySet<string>): boolean {
  if (text.includes('__DISAMBIG__')) return true;
  TEMPLATE_CALL.lastIndex = 0;
  for (let m = TEMPLATE_CALL.exec(text); m; m = TEMPLATE_CALL.exec(text)) {
    if (names.has(normaliseName(m[1]))) return true;
  }
  return false;
}

const nameSets = new Map<string, ReadonlySet<string>>();

function namesFor(opts: PageSelectionOptions): ReadonlySet<string> {
  if (opts.disambiguationTemplates) return new Set(opts.disambiguationTemplates.map(normaliseName));
  let set = nameSets.get(opts.lang);
  if (!set) {
    set = new Set((DISAMBIGUATION_TEMPLATES[opts.lang] ?? ['disambig', 'disambiguation']).map(normaliseName));
    nameSets.set(opts.lang, set);
  }
  return set;
}

/** True when the wikitext starts with a redirect magic word (old dumps lack the `<redirect>` element). */
function isRedirectText(text: string, words: string[]): boolean {
  const head = text.trimStart().slice(0, 32).toLowerCase();
  return words.some((w) => head.startsWith(w));
}

/**
 * Keeps a page iff it is a non-empty, decodable, main-namespace article that is neither a redirect nor a
 * disambiguation page. Reasons: wiki_non_main, wiki_redirect, wiki_invalid_utf8, wiki_empty, wiki_disambiguation.
 */
export function selectPage(page: RawPage, opts: PageSelectionOptions): Verdict {
  if (page.ns !== 0) return drop('wiki_non_main');
  const redirectWords = opts.redirectWords ?? REDIRECT_WORDS[opts.lang] ?? ['#redirect'];
  if (page.redirect || isRedirectText(page.text, redirectWords)) return drop('wiki_redirect');
  if (page.text.includes(INVALID_UTF8_MARK) || page.title.includes(INVALID_UTF8_MARK)) return drop('wiki_invalid_utf8');
  if (page.text.trim() === '') return drop('wiki_empty');
  if (isDisambiguation(page.text, namesFor(opts))) return drop('wiki_disambiguation');
  return KEEP;
}
