import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkCompletion,
  checkPromptFits,
  cleanQuestion,
  DIALOGUE_DROP_REASONS,
  normaliseOutput,
  type CompletionCheckInput,
} from '../../../src/core/dialogue/gates';
import { KEEP, type Verdict } from '../../../src/core/stats';
import { loadLangId, type LangId } from '../../../src/core/text/lang-id';
import { countTokens } from '../../../src/core/text/tokens';
import { HAVE_SHARED_DATA } from '../../support/shared-data';
import { sharedBackground } from './shared-paragraphs';

const ANSWERS: Record<string, string> = {
  en: 'The wall fell in 1989 because the East German government, facing mass protests and an exodus of its citizens through Hungary, could no longer hold the border. Its announcement of new travel rules was misread as an immediate opening, and crowds gathered at the checkpoints that same night.',
  zh: '柏林墙之所以在1989年倒塌，是因为东德政府在大规模抗议和大量民众经匈牙利出逃的双重压力下，已经无法继续控制边境。新的出行规定被误读为立即开放边界，当晚就有成千上万的人聚集到检查站。',
  ru: 'Стена пала в 1989 году, потому что правительство ГДР, столкнувшись с массовыми протестами и бегством граждан через Венгрию, уже не могло удерживать границу. Объявление о новых правилах выезда было воспринято как немедленное открытие границы, и той же ночью толпы собрались у пропускных пунктов.',
  fr: "Le mur est tombé en 1989 parce que le gouvernement est-allemand, confronté à des manifestations massives et à la fuite de ses citoyens par la Hongrie, ne pouvait plus tenir la frontière. L'annonce de nouvelles règles de voyage a été comprise comme une ouverture immédiate, et la foule s'est massée aux points de passage le soir même.",
  es: 'El muro cayó en 1989 porque el gobierno de Alemania Oriental, ante las protestas masivas y la huida de sus ciudadanos a través de Hungría, ya no podía controlar la frontera. El anuncio de nuevas normas de viaje se interpretó como una apertura inmediata, y esa misma noche la gente se agolpó en los puestos de control.',
};
const QUESTIONS: Record<string, string> = {
  en: 'Why did the Berlin Wall fall so suddenly in 1989?',
  zh: '为什么柏林墙会在1989年突然倒塌？',
  ru: 'Почему Берлинская стена так внезапно пала в 1989 году?',
  fr: 'Pourquoi le mur de Berlin est-il tombé si soudainement en 1989 ?',
  es: '¿Por qué cayó tan de repente el Muro de Berlín en 1989?',
};

describe('checkCompletion (real fastText lid.176)', () => {
  let langId: LangId;
  beforeAll(async () => {
    langId = await loadLangId();
  });
  const opts = () => ({ langId, minAnswerTokens: 32, minQuestionChars: 6 });
  const answer = (lang: string, over: Partial<CompletionCheckInput> = {}): CompletionCheckInput => ({
    text: ANSWERS[lang], finishReason: 'stop', lang, role: 'answer', tokens: countTokens(ANSWERS[lang]), ...over,
  });
  const question = (lang: string, over: Partial<CompletionCheckInput> = {}): CompletionCheckInput => ({
    text: QUESTIONS[lang], finishReason: 'stop', lang, role: 'question', tokens: countTokens(QUESTIONS[lang]), ...over,
  });

  it.each(Object.keys(ANSWERS))('%s: keeps a good question and a good answer', (lang) => {
    expect(checkCompletion(question(lang), opts())).toEqual(KEEP);
    expect(checkCompletion(answer(lang), opts())).toEqual(KEEP);
  });

  const cases: Array<[string, () => CompletionCheckInput, Verdict]> = [
    ['truncated answer (finish_reason length)', () => answer('en', { finishReason: 'length' }), { keep: false, reason: 'dialogue_truncated' }],
    ['truncated question, even if well-formed', () => question('ru', { finishReason: 'length' }), { keep: false, reason: 'dialogue_truncated' }],
    ['content-filtered answer', () => answer('es', { finishReason: 'content_filter' }), { keep: false, reason: 'dialogue_content_filtered' }],
    ['empty answer', () => answer('fr', { text: '', tokens: 0 }), { keep: false, reason: 'dialogue_empty' }],
    ['whitespace-only question', () => question('zh', { text: ' \n\t ', tokens: 0 }), { keep: false, reason: 'dialogue_empty' }],
    ['answer under minAnswerTokens', () => answer('en', { text: 'Because of protests.', tokens: countTokens('Because of protests.') }), { keep: false, reason: 'dialogue_too_short' }],
    ['question under minQuestionChars', () => question('zh', { text: '为什么？', tokens: 3 }), { keep: false, reason: 'dialogue_too_short' }],
    ['English answer for a French dialogue', () => answer('fr', { text: ANSWERS.en, tokens: countTokens(ANSWERS.en) }), { keep: false, reason: 'dialogue_wrong_language' }],
    ['Spanish question for a Russian dialogue', () => question('ru', { text: QUESTIONS.es }), { keep: false, reason: 'dialogue_wrong_language' }],
    ['Russian answer for a Chinese dialogue', () => answer('zh', { text: ANSWERS.ru, tokens: countTokens(ANSWERS.ru) }), { keep: false, reason: 'dialogue_wrong_language' }],
  ];
  it.each(cases)('%s', (_name, input, verdict) => {
    expect(checkCompletion(input(), opts())).toEqual(verdict);
  });

  it('compares against the configured fastText label, tolerating a __label__ prefix', () => {
    expect(checkCompletion(answer('zh'), { ...opts(), expectedLabel: '__label__zh' })).toEqual(KEEP);
    expect(checkCompletion(answer('zh'), { ...opts(), expectedLabel: 'ja' })).toEqual({ keep: false, reason: 'dialogue_wrong_language' });
  });

  it('names only reasons from DIALOGUE_DROP_REASONS', () => {
    for (const [, , verdict] of cases) if (!verdict.keep) expect(DIALOGUE_DROP_REASONS).toContain(verdict.reason);
  });

  it.skipIf(!HAVE_SHARED_DATA)('traditional zh output (real zhwiki text) is converted to simplified, then kept', () => {
    const traditional = sharedBackground('zh', 500).text;
    expect(traditional).toContain('數學');
    const simplified = normaliseOutput(traditional, { scriptConversion: 't2s' });
    expect(simplified).not.toContain('數學');
    expect(simplified).toContain('数学');
    const verdict = checkCompletion({ text: simplified, finishReason: 'stop', lang: 'zh', role: 'answer', tokens: countTokens(simplified) }, opts());
    expect(verdict).toEqual(KEEP);
  });
});

describe('normaliseOutput', () => {
  it.each([
    ['t2s converts traditional Chinese', '歷史與數學\r\n', 't2s', '历史与数学'],
    ['t2s leaves simplified Chinese alone', '  历史与数学 ', 't2s', '历史与数学'],
    ['none leaves the script alone', '歷史與數學', 'none', '歷史與數學'],
    ['line ends are unified and ends trimmed', '\r\nLine one\r\nLine two\r\n', undefined, 'Line one\nLine two'],
  ] as const)('%s', (_name, input, scriptConversion, expected) => {
    expect(normaliseOutput(input, { scriptConversion })).toBe(expected);
  });
});

describe('checkPromptFits', () => {
  it.each([
    ['fits with room', { promptTokens: 3000, maxCompletionTokens: 2048, contextWindow: 16_385 }, KEEP],
    ['fits exactly', { promptTokens: 14_337, maxCompletionTokens: 2048, contextWindow: 16_385 }, KEEP],
    ['one token over', { promptTokens: 14_338, maxCompletionTokens: 2048, contextWindow: 16_385 }, { keep: false, reason: 'dialogue_context_overflow' }],
    ['prompt alone too long', { promptTokens: 5000, maxCompletionTokens: 256, contextWindow: 4096 }, { keep: false, reason: 'dialogue_context_overflow' }],
  ] as const)('%s', (_name, input, verdict) => {
    expect(checkPromptFits(input)).toEqual(verdict);
  });
});

describe('cleanQuestion', () => {
  const NBSP = '\u00a0';
  it.each([
    ['numbering "1."', '1. Why did the wall fall?', 'Why did the wall fall?'],
    ['numbering "2)"', '2) How did trade change?', 'How did trade change?'],
    ['numbering "(3)"', '(3) How did trade change?', 'How did trade change?'],
    ['numbering "3、"', '3、为什么柏林墙会倒塌？', '为什么柏林墙会倒塌？'],
    ['"Q1:"', 'Q1: Why did the wall fall?', 'Why did the wall fall?'],
    ['"Q:"', 'Q: Why did the wall fall?', 'Why did the wall fall?'],
    ['"Question:"', 'Question: Why did the wall fall?', 'Why did the wall fall?'],
    ['bold "**Question:**"', '**Question:** Why did the wall fall?', 'Why did the wall fall?'],
    ['"Follow-up question:"', 'Follow-up question: What came next?', 'What came next?'],
    ['echoed "User:"', 'User: What came next?', 'What came next?'],
    ['"问题："', '问题：为什么柏林墙会倒塌？', '为什么柏林墙会倒塌？'],
    ['"追问："', '追问：这对东欧有什么影响？', '这对东欧有什么影响？'],
    ['“…” quotes (zh)', '“为什么柏林墙会倒塌？”', '为什么柏林墙会倒塌？'],
    ['「…」 quotes', '「为什么柏林墙会倒塌？」', '为什么柏林墙会倒塌？'],
    ['"Вопрос:"', 'Вопрос: Почему стена пала?', 'Почему стена пала?'],
    ['"Вопрос 2:"', 'Вопрос 2: Почему стена пала?', 'Почему стена пала?'],
    ['«…» quotes (ru)', '«Почему стена пала?»', 'Почему стена пала?'],
    ['"Question :" with a no-break space (fr)', `Question${NBSP}: Pourquoi le mur est-il tombé ?`, 'Pourquoi le mur est-il tombé ?'],
    ['« … » with inner spaces (fr)', `«${NBSP}Pourquoi le mur est-il tombé ?${NBSP}»`, 'Pourquoi le mur est-il tombé ?'],
    ['"Pregunta:"', 'Pregunta: ¿Por qué cayó el muro?', '¿Por qué cayó el muro?'],
    ['"…" straight quotes (es)', '"¿Por qué cayó el muro?"', '¿Por qué cayó el muro?'],
    ['surrounding whitespace', '  \n Why did the wall fall?  \n', 'Why did the wall fall?'],
    ['stacked numbering, label and quotes', '1. Question: "Why did the wall fall?"', 'Why did the wall fall?'],
  ])('strips %s', (_name, raw, expected) => {
    expect(cleanQuestion(raw)).toBe(expected);
  });

  it.each([
    ['a leading decimal number', '1.5 million people left; why did so many go?'],
    ['a leading year', '1917年的革命为什么会爆发？'],
    ['a word starting with Q', 'Quel rôle Meillet a-t-il joué ?'],
    ['"question" used as a word', 'Question marks aside, why was the film controversial?'],
    ['two separately quoted terms', '"Soft" power or "hard" power: which mattered more?'],
    ['inner quotes', 'Why do «soft» and «hard» power differ?'],
    ['a multi-line question', 'Given the 1989 protests,\nhow did the border regime collapse?'],
  ])('keeps %s intact', (_name, raw) => {
    expect(cleanQuestion(raw)).toBe(raw);
  });
});
