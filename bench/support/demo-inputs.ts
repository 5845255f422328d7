/** What the benches that replay the demo's calls share: their `--name=value` flags, the demo's segments and backend, and their tallies. */
import os from 'node:os';
import path from 'node:path';
import { loadConfigFile, readWorkerSecrets, toolEnv, type Config } from '../../src/config';
import { permutation } from '../../src/core/agnostic/sample';
import { parseTranslatePack, renderTranslateMessages } from '../../src/core/agnostic/translate';
import { reviewReply } from '../../src/core/dialogue/gates';
import { renderQuestionMessages } from '../../src/core/dialogue/render';
import type { ChatMessage } from '../../src/core/messages';
import type { Segment } from '../../src/core/records';
import { loadLangId, type LangId } from '../../src/core/text/lang-id';
import { emptyKnowledgeFunnel, prepareDocument } from '../../src/core/text/pipeline';
import { countTokens } from '../../src/core/text/tokens';
import { readSelectedPages } from '../../src/io/dump-source';
import { createBackend } from '../../src/llm/backend';
import { loadDialoguePack, loadPack } from '../../src/prompts/load';
import type { LlmBackend } from '../../src/llm/types';

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

/** What a bench over the demo's own backend starts from: the config (`--config`), languages (`--langs`), fastText, the backend. */
export async function demoBench(): Promise<{ config: Config; langs: string[]; langId: LangId; backend: LlmBackend }> {
  const config = loadConfigFile(path.resolve(REPO, flag('config') ?? 'samples/demo.yaml'));
  const langs = flag('langs')?.split(',') ?? Object.keys(config.languages);
  const langId = await loadLangId();
  const backend = await createBackend(config, readWorkerSecrets(config), path.join(toolEnv().cacheDir, 'models'));
  console.log(`model ${backend.model}, ${config.llm.local.threads} threads, ${config.llm.local.parallelSequences} sequences; ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)}`);
  return { config, langs, langId, backend };
}

/** One reviewed output of a bench arm: kept, or the reason it was dropped. */
export interface Reviewed {
  kept: boolean;
  reason?: string;
}

/** `kept/total` of a set of reviewed outputs. */
export function keptCell(xs: readonly Reviewed[]): string {
  return `${xs.filter((o) => o.kept).length}/${xs.length}`;
}

/** The drop reasons of a set of reviewed outputs, most frequent first, without their `dialogue_` prefix; '-' when none. */
export function dropCell(xs: readonly Reviewed[]): string {
  const counts = new Map<string, number>();
  for (const o of xs) if (!o.kept) counts.set(o.reason!, (counts.get(o.reason!) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r.replace(/^dialogue_/, '')} ${n}`).join(', ') || '-';
}

/** The options the dialogue activity reviews a reply of `lang` with (reviewReply), from the demo config. */
export function reviewOptionsOf(config: Config, lang: string, langId: LangId): Parameters<typeof reviewReply>[2] {
  const entry = config.languages[lang]!;
  const { labels } = loadDialoguePack(lang);
  return { scriptConversion: entry.scriptConversion, labels, countTokens, langId, minAnswerTokens: config.dialogue.minAnswerTokens, minQuestionChars: config.dialogue.minQuestionChars, expectedLabel: entry.fasttextLabel };
}

/** One call of the demo's mix: its language, messages, and the segment a question is asked about (translations have none). */
export interface DemoCall {
  lang: string;
  messages: ChatMessage[];
  document?: string;
}

/**
 * The demo's mix of calls as a build's stages interleave them: per language, first questions over its first
 * `perLang` knowledge segments (its dialogue pack) and translations of as many English segments (its translation
 * pack); `order` is a seeded permutation of their indices under `key`.
 */
export async function demoCallMix(config: Config, langId: LangId, perLang: number, key: string): Promise<{ calls: DemoCall[]; order: number[] }> {
  const english = await segmentsOf(config, config.agnostic.sourceLang, langId, perLang);
  const calls: DemoCall[] = [];
  for (const lang of Object.keys(config.languages)) {
    const pack = loadDialoguePack(lang);
    for (const s of await segmentsOf(config, lang, langId, perLang)) calls.push({ lang, messages: renderQuestionMessages(pack, { background: s.text, history: [], kind: 'initial' }), document: s.text });
    if (lang === config.agnostic.sourceLang) continue;
    const translate = loadPack(lang, 'translate', parseTranslatePack);
    for (const s of english) calls.push({ lang, messages: renderTranslateMessages(translate, s.text, { subset: 'chat' }) });
  }
  const draw = permutation(calls.length, config.seed, key);
  return { calls, order: calls.map((_, i) => draw(i)) };
}
