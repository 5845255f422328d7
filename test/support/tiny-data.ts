/**
 * Tiny inputs for pipeline tests, generated per test: a MediaWiki export whose articles are plain native sentences
 * (so lid.176 recognises each language), and small English SFT files.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ConfigInput } from '../../src/config';
import type { FakeLang } from './fake-openai';

// The articles' own sentences, apart from the fake LLM's (FAKE_SENTENCES): a fake question or answer that were a
// sentence of its document would be dropped, as a real model's would, by dialogue_copied_document or _answer_repeats.
const DOCUMENT_SENTENCES: Readonly<Record<FakeLang, readonly string[]>> = {
  en: [
    'The stone bridge over the harbour was finished after nine years of work by local builders.',
    'In winter the northern road is often closed, and the villages trade with the coast by boat.',
    'The festival of lights began as a small market where fishermen sold lamps and candles.',
    'Most houses in the old quarter have thick walls and narrow windows that keep the rooms cool.',
    'A school for weavers opened near the square, and its students still dye wool with plants.',
    'The island has two lighthouses, one of which now serves as a small museum of the sea.',
    'Heavy rains in spring fill the reservoir that gives the town its drinking water.',
    'The local council meets once a month in the hall that used to be a grain store.',
  ],
  fr: [
    'Le pont de pierre du port a été achevé après neuf ans de travail par des maçons de la région.',
    'En hiver, la route du nord est souvent fermée et les villages commercent avec la côte en bateau.',
    'La fête des lumières était au départ un petit marché où les pêcheurs vendaient des lampes.',
    'La plupart des maisons du vieux quartier ont des murs épais et des fenêtres étroites.',
    'Une école de tisserands a ouvert près de la place, et ses élèves teignent encore la laine.',
    'L’île possède deux phares, dont l’un abrite aujourd’hui un petit musée de la mer.',
    'Les fortes pluies du printemps remplissent le réservoir qui fournit l’eau potable de la ville.',
    'Le conseil municipal se réunit une fois par mois dans une salle qui servait de grenier.',
  ],
  es: [
    'El puente de piedra del puerto se terminó tras nueve años de trabajo de albañiles de la zona.',
    'En invierno la carretera del norte suele cerrarse y los pueblos comercian con la costa en barco.',
    'La fiesta de las luces empezó como un pequeño mercado donde los pescadores vendían lámparas.',
    'La mayoría de las casas del barrio viejo tienen muros gruesos y ventanas estrechas.',
    'Cerca de la plaza abrió una escuela de tejedores, y sus alumnos todavía tiñen la lana con plantas.',
    'La isla tiene dos faros, y uno de ellos es hoy un pequeño museo del mar.',
    'Las lluvias fuertes de la primavera llenan el embalse que da agua potable a la ciudad.',
    'El ayuntamiento se reúne una vez al mes en una sala que antes era un granero.',
  ],
  ru: [
    'Каменный мост через гавань достроили местные мастера после девяти лет работы.',
    'Зимой северную дорогу часто закрывают, и деревни торгуют с побережьем по морю.',
    'Праздник огней начинался как небольшой рынок, где рыбаки продавали лампы и свечи.',
    'У большинства домов в старом квартале толстые стены и узкие окна, которые хранят прохладу.',
    'Возле площади открылась школа ткачей, и её ученики до сих пор красят шерсть растениями.',
    'На острове два маяка, и в одном из них теперь работает маленький музей моря.',
    'Весенние дожди наполняют водохранилище, из которого город получает питьевую воду.',
    'Городской совет собирается раз в месяц в зале, где раньше хранили зерно.',
  ],
  zh: [
    '港口上的石桥由当地工匠修建，历时九年才完工。',
    '冬天北边的公路经常封闭，村庄只能靠船和沿海地区做买卖。',
    '灯节最初只是一个小集市，渔民们在那里出售灯笼和蜡烛。',
    '老城区的大多数房子墙很厚，窗户很窄，屋里因此保持凉爽。',
    '广场附近开了一所织布学校，学生们至今仍用植物给羊毛染色。',
    '岛上有两座灯塔，其中一座现在是一个小小的海洋博物馆。',
    '春天的大雨会灌满水库，城里的饮用水就来自那里。',
    '镇议会每个月在一间过去用来储存粮食的大厅里开一次会。',
  ],
};

/** Writes `<lang>wiki.xml` with `articles` long-enough articles, one redirect and one stub; returns its path. */
export function writeTinyDump(dir: string, lang: FakeLang, articles = 2): string {
  const bank = DOCUMENT_SENTENCES[lang];
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
