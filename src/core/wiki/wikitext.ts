/**
 * Wikitext → plain text (paper §2.1.1, issue 9 step 4).
 *
 * A purpose-built linear scanner rather than a full parser: bench/wiki-fidelity.ts measured wtf_wikipedia
 * (and the issue measured wikiparser-node) far below the dump-reading ceiling, and wtf_wikipedia also
 * rewrites CJK sentence ends and drops headings. We only need the visible prose, so every construct is
 * either kept as text or dropped whole, in one pass per construct, with balanced-bracket matching.
 */

/** Options of {@link cleanWikitext}; every field has a default. */
export interface CleanOptions {
  /** Give up on a page after this long (ms), counted as `wiki_parse_failure`. */
  timeBudgetMs?: number;
  /** Section titles (case-insensitive) whose whole section is dropped: references, link lists, notes. */
  dropSections?: readonly string[];
  /** Order of preference among `-{zh-hans:…;zh-hant:…}-` variants; t2s runs later, so simplified comes first. */
  variantPreference?: readonly string[];
}

/** Result of cleaning one page: the text, or a snake_case, stage-prefixed reason. */
export type CleanResult = { ok: true; text: string } | { ok: false; reason: 'wiki_parse_failure' | 'wiki_empty_text' };

/** Sections that hold citations or link lists rather than prose, in the five target languages. */
export const DEFAULT_DROP_SECTIONS: readonly string[] = [
  'references', 'notes', 'footnotes', 'citations', 'sources', 'bibliography', 'external links', 'see also',
  'further reading', 'notes and references', 'references and notes', 'works cited',
  '参考文献', '參考文獻', '参考资料', '參考資料', '注释', '註釋', '脚注', '腳註', '外部链接', '外部連結', '參見', '参见',
  '延伸阅读', '延伸閱讀', '参考', '參考', '来源', '來源', '注解', '註解',
  'примечания', 'литература', 'ссылки', 'см. также', 'источники', 'сноски',
  'références', 'notes et références', 'liens externes', 'voir aussi', 'bibliographie', 'articles connexes',
  'referencias', 'enlaces externos', 'véase también', 'bibliografía', 'notas', 'notas y referencias',
];

const DEFAULT_VARIANTS = ['zh-hans', 'zh-cn', 'zh-sg', 'zh-my', 'zh', 'zh-hant', 'zh-tw', 'zh-hk', 'zh-mo'];

/** Link namespaces whose target is not shown inline (media and categories), in the five languages. */
const HIDDEN_NAMESPACES = new Set([
  'file', 'image', 'media', 'category', 'fichier', 'image', 'catégorie', 'archivo', 'imagen', 'categoría',
  'файл', 'изображение', 'категория', '文件', '檔案', '档案', '图像', '圖像', '分类', '分類', 'category',
]);

/** A bare interlanguage code such as `de`, `zh-min-nan`, `simple` (used in `[[de:Berlin]]`). */
const INTERLANGUAGE = /^(?:[a-z]{2,3}(?:-[a-z0-9]{2,8})*|simple)$/;

/** Tags whose content is shown as-is (code and math are kept as their source, not placeholders). */
const VERBATIM_TAGS = 'math|chem|ce|nowiki|syntaxhighlight|source|pre|code|score';
/** Tags dropped with their content. */
const DROPPED_TAGS = 'ref|references|gallery|timeline|imagemap|graph|mapframe|maplink|templatedata|templatestyles|categorytree|inputbox|noinclude|includeonly';

const COMMENT = /<!--[\s\S]*?(?:-->|$)/g;
const DROPPED_SELF_CLOSING = new RegExp(`<(?:${DROPPED_TAGS})\\b[^>]*/>`, 'gi');
const DROPPED_BLOCK = new RegExp(`<(${DROPPED_TAGS})\\b[^>]*>[\\s\\S]*?</\\1\\s*>`, 'gi');
const VERBATIM_BLOCK = new RegExp(`<(${VERBATIM_TAGS})\\b[^>]*>([\\s\\S]*?)</\\1\\s*>`, 'gi');
const LANGUAGE_CONVERSION = /-\{([^{}]*?)\}-/g;
const ANY_TAG = /<\/?[a-zA-Z][a-zA-Z0-9]*\b[^<>]*>/g;
const BR_TAG = /<br\s*\/?>/gi;
const EXTERNAL_LINK = /\[(?:https?:|ftp:)?\/\/[^\s\]]*(?:\s+([^\]]*))?\]/g;
const BOLD_ITALIC = /'{2,}/g;
const HEADING = /^(={1,6})\s*(.*?)\s*\1\s*$/;
const MAGIC_WORD = /__[A-Z]+__/g;
const ENTITY = /&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g;
const EMPTY_PARENS = /\s*[(（][\s,;:，；、]*[)）]/g;
/** EMPTY_PARENS without its leading white space: a cheap test first, as a leading `\s*` is tried at every space. */
const HAS_EMPTY_PARENS = /[(（][\s,;:，；、]*[)）]/;
/** Runs of blanks other than one lone space (which would be replaced by itself). */
const BLANK_RUN = /[\t\u00a0][ \t\u00a0]*| [ \t\u00a0]+/g;

/** Placeholder delimiters for verbatim spans (private-use code points never found in wikitext). */
const PH_OPEN = '\uE000';
const PH_CLOSE = '\uE001';
const PLACEHOLDER = /\uE000(\d+)\uE001/g;

const NAMED_ENTITIES: Record<string, string> = {
  nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", ndash: '–', mdash: '—', minus: '−',
  times: '×', hellip: '…', laquo: '«', raquo: '»', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”',
  thinsp: ' ', ensp: ' ', emsp: ' ', middot: '·', deg: '°', plusmn: '±', prime: '′', Prime: '″', zwj: '', zwnj: '',
};

/**
 * Templates whose visible output is one of their arguments (language tags, inline math, link helpers);
 * every other template is dropped. Value: the positional argument shown (0-based), or 'convert'.
 */
const INLINE_TEMPLATES: Record<string, number | 'convert'> = {
  lang: 1, math: 0, mvar: 0, nowrap: 0, nobr: 0, 'nobold': 0, noitalic: 0, small: 0, big: 0, sc: 0, smallcaps: 0,
  'small caps': 0, em: 0, strong: 0, abbr: 0, nihongo: 0, le: 0, 'link-en': 0, 'link-de': 0, 'link-fr': 0,
  'link-ja': 0, 'link-ru': 0, 'link-es': 0, ill: 0, 'interlanguage link': 0, 'interlanguage link multi': 0,
  tsl: 2, transl: 1, 'transliteration': 1, lle: 0, iw: 0, 'не переведено': 0, 'iw2': 0, 'lien': 0, 'langue': 1,
  'nombre': 0, 'unité': 0, 'lang-fr': 0, 'citation': 0, 'formatnum': 0, nts: 0, val: 0, convert: 'convert',
  cvt: 'convert', 'num': 0, 'nnbsp': 0, 'date-': 0, 'siècle': 0, 'sfrac': 0, 'frac': 0, 'ok': 0,
};

/** Cleans one page's wikitext; never throws (a parser fault or an overrun budget is a failure result). */
export function cleanWikitext(wikitext: string, opts: CleanOptions = {}): CleanResult {
  const deadline = performance.now() + (opts.timeBudgetMs ?? 2000);
  try {
    const text = clean(wikitext, opts, deadline);
    if (text.trim().length === 0) return { ok: false, reason: 'wiki_empty_text' };
    return { ok: true, text };
  } catch {
    return { ok: false, reason: 'wiki_parse_failure' };
  }
}

/** Thrown (and caught above) when a page overruns its time budget. */
class BudgetExceeded extends Error {}

function checkBudget(deadline: number): void {
  if (performance.now() > deadline) throw new BudgetExceeded('wikitext time budget exceeded');
}

function clean(input: string, opts: CleanOptions, deadline: number): string {
  const verbatim: string[] = [];
  let s = input.replace(COMMENT, '');
  s = s.replace(DROPPED_SELF_CLOSING, '').replace(DROPPED_BLOCK, '');
  // Math/code may hold `{{`, `[[` or `|`: park it before the bracket passes and restore it last.
  s = s.replace(VERBATIM_BLOCK, (_m, tag: string, body: string) => {
    let source = decodeEntities(body).trim();
    // TeX ignores spaces between braces, so `{{` in math is written `{ {` and never reads as a template.
    if (/^(?:math|chem|ce)$/i.test(tag)) source = source.replace(/([{}])(?=\1)/g, '$1 ');
    verbatim.push(source);
    return `${PH_OPEN}${verbatim.length - 1}${PH_CLOSE}`;
  });
  s = s.replace(LANGUAGE_CONVERSION, (_m, body: string) => pickVariant(body, opts.variantPreference ?? DEFAULT_VARIANTS));
  checkBudget(deadline);
  s = stripTemplates(s, deadline);
  s = stripTables(s);
  checkBudget(deadline);
  s = replaceLinks(s, deadline);
  s = s.replace(EXTERNAL_LINK, (_m, label: string | undefined) => label ?? '');
  s = s.replace(BR_TAG, ' ').replace(/<ref\b[^>]*>[^<]*/gi, '').replace(ANY_TAG, '');
  s = s.replace(BOLD_ITALIC, '').replace(MAGIC_WORD, '');
  s = decodeEntities(s);
  s = layoutLines(s, opts.dropSections ?? DEFAULT_DROP_SECTIONS);
  return s.replace(PLACEHOLDER, (_m, i: string) => verbatim[Number(i)] ?? '');
}

/** `-{zh-hans:A;zh-hant:B}-` → the preferred variant; `-{A}-` → A; rule-only forms (H, T, D, -) → nothing. */
function pickVariant(body: string, preference: readonly string[]): string {
  const flag = /^\s*([A-Za-z-]{1,2}(?:;[A-Za-z-]{1,2})*)\s*\|/.exec(body);
  let rest = body;
  if (flag) {
    const flags = flag[1].toUpperCase();
    if (/[HTD-]/.test(flags) && !flags.includes('A')) return '';
    rest = body.slice(flag[0].length);
    if (flags.includes('R')) return rest;
  }
  const variants = new Map<string, string>();
  for (const part of rest.split(';')) {
    const m = /^\s*(zh(?:-[a-z]+)?)\s*:(.*)$/s.exec(part);
    if (m) variants.set(m[1].toLowerCase(), m[2].trim());
    else if (variants.size === 0) return rest; // plain text guarded from conversion
  }
  for (const v of preference) {
    const hit = variants.get(v);
    if (hit !== undefined) return hit;
  }
  return variants.values().next().value ?? '';
}

/** Drops `{{…}}` templates and `{{{…}}}` parameters (nested), keeping the text of a few inline templates. */
function stripTemplates(s: string, deadline: number): string {
  if (!s.includes('{{')) return s.replace(/}}+/g, '');
  const out: string[] = [];
  let depth = 0;
  let last = 0;
  let start = 0;
  let i = s.indexOf('{');
  let steps = 0;
  while (i !== -1 && i < s.length) {
    if ((++steps & 0x3ff) === 0) checkBudget(deadline);
    const ch = s[i];
    let run = 1;
    while (s[i + run] === ch) run++;
    const pairs = run >> 1;
    if (ch === '{' && pairs > 0) {
      if (depth === 0) {
        out.push(s.slice(last, i));
        start = i;
      }
      depth += pairs;
    } else if (ch === '}' && pairs > 0 && depth > 0) {
      depth = Math.max(0, depth - pairs);
      if (depth === 0) {
        out.push(renderInlineTemplate(s.slice(start, i + run), deadline));
        last = i + run;
      }
    }
    i += run;
    const nextOpen = s.indexOf('{', i);
    const nextClose = depth > 0 ? s.indexOf('}', i) : -1;
    i = nextOpen === -1 ? nextClose : nextClose === -1 ? nextOpen : Math.min(nextOpen, nextClose);
  }
  // An unclosed `{{` swallows nothing: MediaWiki shows it literally; we drop only the braces.
  out.push(depth > 0 ? s.slice(start) : s.slice(last));
  return out.join('').replace(/\{\{+|\}\}+/g, '');
}

/** Text shown for one whole `{{…}}` span: an argument of an allow-listed template, else nothing. */
function renderInlineTemplate(span: string, deadline: number): string {
  if (span.startsWith('{{{') && !span.startsWith('{{{{')) return '';
  const inner = span.slice(2, -2);
  const args = splitArgs(inner);
  const name = args[0].trim().toLowerCase().replace(/_/g, ' ');
  let rule = INLINE_TEMPLATES[name];
  if (rule === undefined && /^lang-[a-z-]+$/.test(name)) rule = 0;
  if (rule === undefined) return '';
  const positional = args.slice(1).map((a) => a.replace(/^\s*\d+\s*=/, '')).filter((a) => !/^\s*[^=|{[]*=/.test(a));
  if (rule === 'convert') {
    const [value, unit] = positional;
    return value === undefined ? '' : `${value.trim()}${unit ? ` ${unit.trim()}` : ''}`;
  }
  const arg = positional[rule];
  return arg === undefined ? '' : stripTemplates(arg, deadline);
}

/** Splits template content on top-level `|` (not inside nested `{{…}}` or `[[…]]`). */
function splitArgs(inner: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if ((c === '{' || c === '[') && inner[i + 1] === c) {
      depth++;
      i++;
    } else if ((c === '}' || c === ']') && inner[i + 1] === c) {
      depth = Math.max(0, depth - 1);
      i++;
    } else if (c === '|' && depth === 0) {
      args.push(inner.slice(from, i));
      from = i + 1;
    }
  }
  args.push(inner.slice(from));
  return args;
}

/** Drops `{| … |}` tables (nested) line by line, plus stray table-row lines outside any table. */
function stripTables(s: string): string {
  if (!s.includes('{|')) return s;
  const lines = s.split('\n');
  const kept: string[] = [];
  let depth = 0;
  for (const line of lines) {
    const t = line.trimStart().replace(/^:+\s*/, '');
    if (t.startsWith('{|')) {
      depth++;
      continue;
    }
    if (depth > 0) {
      if (t.startsWith('|}')) depth--;
      continue;
    }
    kept.push(line);
  }
  return kept.join('\n');
}

/** `[[T|label]]` → label, `[[T]]` → T; media, category and interlanguage links vanish with their captions. */
function replaceLinks(s: string, deadline: number): string {
  if (!s.includes('[[')) return s.replace(/\]\]+/g, '');
  const out: string[] = [];
  let depth = 0;
  let last = 0;
  let start = 0;
  let i = 0;
  let steps = 0;
  for (;;) {
    if ((++steps & 0x3ff) === 0) checkBudget(deadline);
    const open = s.indexOf('[[', i);
    const close = depth > 0 ? s.indexOf(']]', i) : -1;
    if (open === -1 && close === -1) break;
    if (open !== -1 && (close === -1 || open < close)) {
      if (depth === 0) {
        out.push(s.slice(last, open));
        start = open;
      }
      depth++;
      i = open + 2;
    } else {
      depth--;
      i = close + 2;
      if (depth === 0) {
        out.push(renderLink(s.slice(start + 2, close), deadline));
        last = i;
      }
    }
  }
  out.push(depth > 0 ? s.slice(start) : s.slice(last));
  return out.join('').replace(/\[\[|\]\]/g, '');
}

function renderLink(inner: string, deadline: number): string {
  const bar = inner.indexOf('|');
  const target = (bar === -1 ? inner : inner.slice(0, bar)).trim();
  const colon = target.indexOf(':');
  if (colon > 0) {
    const prefix = target.slice(0, colon).trim().toLowerCase();
    if (HIDDEN_NAMESPACES.has(prefix)) return '';
    if (bar === -1 && INTERLANGUAGE.test(prefix)) return '';
  }
  if (bar === -1) return target.replace(/^:/, '');
  const label = inner.slice(bar + 1);
  // Pipe trick `[[Paris, Texas|]]` shows the target without its qualifier.
  if (label.trim() === '') return target.replace(/^:/, '').replace(/\s*\(.*\)$/, '').replace(/,.*$/, '');
  return label.includes('[[') ? replaceLinks(label, deadline) : label;
}

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(ENTITY, (m, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return NAMED_ENTITIES[name] ?? m;
  });
}

/**
 * Final layout: headings and list items become plain lines, table/row leftovers and rules go, whitespace
 * is normalised, and sections in `dropSections` (or left empty) are removed with their headings.
 */
function layoutLines(s: string, dropSections: readonly string[]): string {
  const drop = new Set(dropSections.map((t) => t.toLowerCase()));
  const lines: Array<{ text: string; level: number }> = [];
  let skipLevel = 0;
  for (const raw of s.split('\n')) {
    const heading = HEADING.exec(raw.trim());
    if (heading) {
      const level = heading[1].length;
      const title = tidy(heading[2]);
      if (skipLevel > 0 && level > skipLevel) continue;
      skipLevel = drop.has(title.toLowerCase().replace(/[:：]$/, '')) ? level : 0;
      if (skipLevel === 0 && title) lines.push({ text: title, level });
      continue;
    }
    if (skipLevel > 0) continue;
    let line = raw.trim();
    if (/^[|!]/.test(line) || /^-{4,}/.test(line)) continue;
    line = line.replace(/^[*#:;]+\s*/, '');
    line = tidy(line);
    if (line) lines.push({ text: line, level: 0 });
  }
  // A heading whose section came out empty (only tables or templates) is noise: drop it.
  const kept: string[] = [];
  for (let k = 0; k < lines.length; k++) {
    const cur = lines[k];
    if (cur.level > 0) {
      const next = lines[k + 1];
      if (next === undefined || (next.level > 0 && next.level <= cur.level)) continue;
    }
    kept.push(cur.text);
  }
  return kept.join('\n');
}

/** Collapses runs of spaces, removes parentheses emptied by dropped templates, trims. */
function tidy(line: string): string {
  // Most lines need neither regex: plain substring checks rule them out faster than a regex scan (a hot path).
  let s = line.includes('  ') || line.includes('\t') || line.includes('\u00a0') ? line.replace(BLANK_RUN, ' ') : line;
  if (HAS_EMPTY_PARENS.test(s)) s = s.replace(EMPTY_PARENS, '');
  return s.replace(/ ([,.。，、；：])/g, '$1').trim();
}
