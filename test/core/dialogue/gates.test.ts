import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkCompletion,
  checkPromptFits,
  cleanAnswer,
  cleanOutput,
  cleanQuestion,
  DIALOGUE_DROP_REASONS,
  normaliseOutput,
  questionFinishReason,
  reviewReply,
  type CompletionCheckInput,
} from '../../../src/core/dialogue/gates';
import { KEEP, type Verdict } from '../../../src/core/stats';
import { loadLangId, type LangId } from '../../../src/core/text/lang-id';
import { countTokens } from '../../../src/core/text/tokens';
import { loadDialoguePack } from '../../../src/prompts/load';
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

const PACKS = { en: loadDialoguePack('en'), zh: loadDialoguePack('zh'), fr: loadDialoguePack('fr') };
// Instructions as `instructionText` gives them: the system prompt and principles of the call's pack part.
const INSTRUCTIONS = {
  enAnswer: `${PACKS.en.initialAnswer.system}\n\n${PACKS.en.initialAnswer.principles}`,
  zhQuestion: `${PACKS.zh.inDepthQuestion.system}\n\n${PACKS.zh.inDepthQuestion.principles}`,
  frAnswer: `${PACKS.fr.followupAnswer.system}\n\n${PACKS.fr.followupAnswer.principles}`,
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
    ['en answer that is its own principles', () => answer('en', { text: PACKS.en.initialAnswer.principles, tokens: countTokens(PACKS.en.initialAnswer.principles), instructions: INSTRUCTIONS.enAnswer }), { keep: false, reason: 'dialogue_prompt_echo' }],
    ['zh question that echoes its instructions', () => question('zh', { text: PACKS.zh.inDepthQuestion.system.slice(0, 60), instructions: INSTRUCTIONS.zhQuestion }), { keep: false, reason: 'dialogue_prompt_echo' }],
    ['fr answer: the system prompt with a short reply appended', () => answer('fr', { text: `${PACKS.fr.followupAnswer.system} Le mur est tombé en 1989.`, tokens: 200, instructions: INSTRUCTIONS.frAnswer }), { keep: false, reason: 'dialogue_prompt_echo' }],
    ['en echo that is also truncated counts as truncated', () => answer('en', { text: INSTRUCTIONS.enAnswer, finishReason: 'length', instructions: INSTRUCTIONS.enAnswer }), { keep: false, reason: 'dialogue_truncated' }],
    ['a real en answer, instructions given', () => answer('en', { instructions: INSTRUCTIONS.enAnswer }), KEEP],
    ['a real fr answer, instructions given', () => answer('fr', { instructions: INSTRUCTIONS.frAnswer }), KEEP],
    ['a real zh question, instructions given', () => question('zh', { instructions: INSTRUCTIONS.zhQuestion }), KEEP],
    ['a follow-up that repeats an earlier question up to case and punctuation', () => question('en', { earlierQuestions: ['Something else?', `  ${QUESTIONS.en.toUpperCase().replace(/\?$/, ' ?')}`] }), { keep: false, reason: 'dialogue_repeated_question' }],
    ['zh: a follow-up that repeats the first question', () => question('zh', { earlierQuestions: [QUESTIONS.zh] }), { keep: false, reason: 'dialogue_repeated_question' }],
    ['a follow-up that differs from every earlier question', () => question('fr', { earlierQuestions: [QUESTIONS.es, 'Pourquoi ?'] }), KEEP],
    ['an answer that repeats a question is not judged by that gate', () => answer('en', { earlierQuestions: [ANSWERS.en] }), KEEP],
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

// Short documents on the topic of ANSWERS/QUESTIONS, written for these tests in each language.
const DOCUMENTS: Record<string, string> = {
  en: 'The Berlin Wall was a guarded concrete barrier that divided Berlin from 1961 to 1989. In 1989 mass protests spread across East Germany and thousands of citizens fled to the West through Hungary. On the evening of 9 November 1989 the government announced new travel rules, and crowds gathered at the border crossings. The guards opened the gates, and the wall fell that night.',
  zh: '柏林墙是一道有守卫的混凝土屏障，从1961年到1989年把柏林分隔开来。1989年，东德各地爆发了大规模抗议，成千上万的公民经匈牙利逃往西方。1989年11月9日晚，政府宣布了新的出行规定，人群聚集到边境检查站。守卫打开了大门，柏林墙当晚倒塌。',
  ru: 'Берлинская стена — охраняемое бетонное заграждение, которое разделяло Берлин с 1961 по 1989 год. В 1989 году по всей ГДР прошли массовые протесты, и тысячи граждан бежали на Запад через Венгрию. Вечером 9 ноября 1989 года правительство объявило о новых правилах выезда, и толпы собрались у пограничных пунктов. Пограничники открыли ворота, и стена пала той же ночью.',
  fr: "Le mur de Berlin était une barrière de béton gardée qui a divisé Berlin de 1961 à 1989. En 1989, des manifestations massives ont gagné toute l'Allemagne de l'Est et des milliers de citoyens ont fui vers l'Ouest par la Hongrie. Le soir du 9 novembre 1989, le gouvernement a annoncé de nouvelles règles de voyage, et la foule s'est rassemblée aux postes-frontières. Les gardes ont ouvert les barrières et le mur est tombé cette nuit-là.",
  es: 'El Muro de Berlín fue una barrera de hormigón vigilada que dividió Berlín desde 1961 hasta 1989. En 1989 las protestas masivas se extendieron por Alemania Oriental y miles de ciudadanos huyeron al Oeste a través de Hungría. La noche del 9 de noviembre de 1989 el gobierno anunció nuevas normas de viaje y la multitud se reunió en los pasos fronterizos. Los guardias abrieron las puertas y el muro cayó esa misma noche.',
};
// The second sentence of each document, asked back with a question mark: what the small model did.
const COPIED_QUESTIONS: Record<string, string> = {
  en: 'In 1989 mass protests spread across East Germany and thousands of citizens fled to the West through Hungary?',
  zh: '1989年，东德各地爆发了大规模抗议，成千上万的公民经匈牙利逃往西方？',
  ru: 'В 1989 году по всей ГДР прошли массовые протесты, и тысячи граждан бежали на Запад через Венгрию?',
  fr: "En 1989, des manifestations massives ont gagné toute l'Allemagne de l'Est et des milliers de citoyens ont fui vers l'Ouest par la Hongrie ?",
  es: '¿En 1989 las protestas masivas se extendieron por Alemania Oriental y miles de ciudadanos huyeron al Oeste a través de Hungría?',
};
// Real questions reusing a phrase of that sentence.
const PHRASE_QUESTIONS: Record<string, string> = {
  en: 'Why did thousands of citizens flee to the West through Hungary in 1989?',
  zh: '为什么成千上万的公民要经匈牙利逃往西方？',
  ru: 'Почему тысячи граждан бежали на Запад через Венгрию?',
  fr: "Pourquoi des milliers de citoyens ont-ils fui vers l'Ouest par la Hongrie ?",
  es: '¿Por qué miles de ciudadanos huyeron al Oeste a través de Hungría?',
};
// A follow-up that only adds a word to QUESTIONS[lang].
const NEAR_REPEATS: Record<string, string> = {
  en: 'So why did the Berlin Wall fall so suddenly in 1989?',
  zh: '那么为什么柏林墙会在1989年突然倒塌？',
  ru: 'Почему же Берлинская стена так внезапно пала в 1989 году?',
  fr: 'Mais pourquoi le mur de Berlin est-il tombé si soudainement en 1989 ?',
  es: '¿Y por qué cayó tan de repente el Muro de Berlín en 1989?',
};
// A different follow-up of the same dialogue.
const FOLLOW_UPS: Record<string, string> = {
  en: 'Who decided to open the border crossings on 9 November 1989?',
  zh: '当天晚上是谁决定开放边境检查站的？',
  ru: 'Кто решил открыть пограничные пункты 9 ноября 1989 года?',
  fr: 'Qui a décidé d’ouvrir les postes-frontières le 9 novembre 1989 ?',
  es: '¿Quién decidió abrir los pasos fronterizos el 9 de noviembre de 1989?',
};
// The document sentence the zh model turned into a question (园林 dialogue), in a document of its own.
const GARDEN_DOC = '苏州园林是中国古典园林的代表，多建于明清两代。文人雅士把园林当作日常起居的延伸，园林在园中读书、作画、弹琴、下棋的生活由此而来。园中的假山、水池和花木都按画意布置。';
const GARDEN_Q1 = '园林为什么在园中读书、作画、弹琴、下棋？';
const GARDEN_Q2 = '代表园林为什么在园中读书、作画、弹琴、下棋？';

describe('checkCompletion: what small models do (real fastText lid.176)', () => {
  let langId: LangId;
  beforeAll(async () => {
    langId = await loadLangId();
  });
  const opts = () => ({ langId, minAnswerTokens: 32, minQuestionChars: 6 });
  const ask = (lang: string, text: string, over: Partial<CompletionCheckInput> = {}): CompletionCheckInput => ({
    text, finishReason: 'stop', lang, role: 'question', tokens: countTokens(text), document: DOCUMENTS[lang], ...over,
  });
  const reply = (lang: string, text: string, over: Partial<CompletionCheckInput> = {}): CompletionCheckInput => ({
    text, finishReason: 'stop', lang, role: 'answer', tokens: countTokens(text), document: DOCUMENTS[lang], question: QUESTIONS[lang], ...over,
  });
  const LANGS = Object.keys(DOCUMENTS);

  it.each(LANGS)('%s: a good question, follow-up and answer are kept with the document, the question and the earlier questions given', (lang) => {
    expect(checkCompletion(ask(lang, QUESTIONS[lang]!), opts())).toEqual(KEEP);
    expect(checkCompletion(ask(lang, PHRASE_QUESTIONS[lang]!), opts())).toEqual(KEEP);
    expect(checkCompletion(ask(lang, FOLLOW_UPS[lang]!, { earlierQuestions: [QUESTIONS[lang]!, PHRASE_QUESTIONS[lang]!] }), opts())).toEqual(KEEP);
    expect(checkCompletion(reply(lang, ANSWERS[lang]!), opts())).toEqual(KEEP);
  });

  it.each(LANGS)('%s: a document sentence asked back with a question mark is dialogue_copied_document', (lang) => {
    expect(DOCUMENTS[lang]).toContain(COPIED_QUESTIONS[lang]!.replace(/^¿|\s?[?？]$/gu, ''));
    expect(checkCompletion(ask(lang, COPIED_QUESTIONS[lang]!), opts())).toEqual({ keep: false, reason: 'dialogue_copied_document' });
    // Without the document the gate cannot run.
    expect(checkCompletion(ask(lang, COPIED_QUESTIONS[lang]!, { document: undefined }), opts())).toEqual(KEEP);
  });

  it.each(LANGS)('%s: a follow-up that adds a word to an earlier question is dialogue_near_repeat_question', (lang) => {
    expect(checkCompletion(ask(lang, NEAR_REPEATS[lang]!, { earlierQuestions: [QUESTIONS[lang]!] }), opts())).toEqual({ keep: false, reason: 'dialogue_near_repeat_question' });
    // The other way round too: the earlier question had the extra word.
    expect(checkCompletion(ask(lang, QUESTIONS[lang]!, { earlierQuestions: [NEAR_REPEATS[lang]!] }), opts())).toEqual({ keep: false, reason: 'dialogue_near_repeat_question' });
  });

  it.each(LANGS)('%s: an answer that pastes the document is dialogue_answer_repeats; one quoting a sentence and explaining is kept', (lang) => {
    const doc = DOCUMENTS[lang]!;
    expect(checkCompletion(reply(lang, doc), opts())).toEqual({ keep: false, reason: 'dialogue_answer_repeats' });
    const quote = `${COPIED_QUESTIONS[lang]!.replace(/^¿|\s?[?？]$/gu, '')}. ${ANSWERS[lang]}`;
    expect(checkCompletion(reply(lang, quote), opts())).toEqual(KEEP);
  });

  const cases: Array<[string, () => CompletionCheckInput, Verdict]> = [
    // The 园林 dialogue of the embedded model: the document's sentence with a "？", then the same question with "代表" before it.
    ['zh: the document sentence with "？" appended', () => ask('zh', '园林在园中读书、作画、弹琴、下棋？', { document: GARDEN_DOC }), { keep: false, reason: 'dialogue_copied_document' }],
    ['zh: the same sentence asked with 为什么 is a question', () => ask('zh', GARDEN_Q1, { document: GARDEN_DOC }), KEEP],
    ['zh: "代表" + the first question', () => ask('zh', GARDEN_Q2, { document: GARDEN_DOC, earlierQuestions: [GARDEN_Q1] }), { keep: false, reason: 'dialogue_near_repeat_question' }],
    ['zh: a long copied sentence with 为什么 in front still asks (most shingles copied)', () => ask('zh', '为什么1989年东德各地爆发了大规模抗议，成千上万的公民经匈牙利逃往西方？'), KEEP],
    ['en: a copied sentence with a word left out', () => ask('en', 'Mass protests spread across East Germany and thousands of citizens fled to the West through Hungary?'), { keep: false, reason: 'dialogue_copied_document' }],
    ['en: a copied sentence with "why" put in front is a question', () => ask('en', 'Why in 1989 mass protests spread across East Germany and thousands of citizens fled to the West through Hungary?'), KEEP],
    ['en: a two-word topic from the document is too short to call copied', () => ask('en', 'The Berlin Wall?'), KEEP],
    ['en: an exact repeat keeps its own reason', () => ask('en', QUESTIONS.en!, { earlierQuestions: [NEAR_REPEATS.en!, QUESTIONS.en!] }), { keep: false, reason: 'dialogue_repeated_question' }],
    ['en: one word replaced is a different question', () => ask('en', 'What role did the border guards play in the protests?', { earlierQuestions: ['What role did the border guards play in the opening?'] }), KEEP],
    ['en: a longer question on the same subject is a different question', () => ask('en', 'What is the Berlin Wall remembered for today?', { earlierQuestions: ['What is the Berlin Wall?'] }), KEEP],
    ['ru: the answer repeats the question', () => reply('ru', 'Что-то произошло?', { question: 'Что-то произошло?' }), { keep: false, reason: 'dialogue_answer_repeats' }],
    ['es: the answer is the question without its marks', () => reply('es', 'Por qué cayó tan de repente el Muro de Berlín en 1989', { question: QUESTIONS.es }), { keep: false, reason: 'dialogue_answer_repeats' }],
    ['zh: the answer restates the question, then answers it', () => reply('zh', `${QUESTIONS.zh}${ANSWERS.zh}`), KEEP],
    ['fr: a bare preamble as the question', () => ask('fr', 'Pour formuler cette question, je serais :'), { keep: false, reason: 'dialogue_preamble' }],
    ['en: a bare preamble as the question', () => ask('en', 'Sure! Here is the question:'), { keep: false, reason: 'dialogue_preamble' }],
    ['zh: a bare preamble as the question', () => ask('zh', '以下是问题：'), { keep: false, reason: 'dialogue_preamble' }],
    ['es: a bare preamble as the question', () => ask('es', 'Aquí está la pregunta:'), { keep: false, reason: 'dialogue_preamble' }],
    ['ru: a bare preamble as the answer', () => reply('ru', 'Вот ответ на ваш вопрос:'), { keep: false, reason: 'dialogue_preamble' }],
    ['fr: a preamble line inside the answer', () => reply('fr', `${ANSWERS.fr}\n\nVoici la réponse :\nLe mur est tombé.`), { keep: false, reason: 'dialogue_preamble' }],
    // The embedded model's en answer (twice in one dialogue of the demo, kept and then flagged by the quality report).
    ['en answer that stops mid-sentence, as the model said it stopped', () => reply('en', 'Based on the information provided in the document', { tokens: 40 }), { keep: false, reason: 'dialogue_unfinished' }],
    ['zh answer that ends on a comma', () => reply('zh', '园林不仅是观赏的场所，也是日常生活的一部分，', { tokens: 40 }), { keep: false, reason: 'dialogue_unfinished' }],
    ['an answer ending in a code block or a number is finished', () => reply('en', 'The loop stops because the index only grows, one step per pass:\n```py\nwhile i < n:\n    i += 1\n```', { tokens: 40 }), KEEP],
    // Mid-word slips between scripts the embedded model wrote in the demo's ru and zh answers.
    ['ru answer with a Latin P inside a Cyrillic word', () => reply('ru', `${ANSWERS.ru} Значения хранятся в ТуPле.`), { keep: false, reason: 'dialogue_mixed_script' }],
    ['zh answer with Han glued to Cyrillic', () => reply('zh', `${ANSWERS.zh}在Как之后。`), { keep: false, reason: 'dialogue_mixed_script' }],
    ['zh answer naming Python inside Han is kept', () => reply('zh', `${ANSWERS.zh}在Python中也能这样记录。`), KEEP],
    ['ru answer repeating a mixed word of its document is kept', () => reply('ru', `${ANSWERS.ru} Об этом писал ЯndeX.`, { document: `${DOCUMENTS.ru} ЯndeX.` }), KEEP],
    ['fr: "Voici les principaux éléments de réponse :" is no preamble', () => reply('fr', `Voici les principaux éléments de réponse :\n${ANSWERS.fr}`), KEEP],
  ];
  it.each(cases)('%s', (_name, input, verdict) => {
    expect(checkCompletion(input(), opts())).toEqual(verdict);
  });

  it('names only reasons from DIALOGUE_DROP_REASONS, which lists the new gates in check order', () => {
    for (const [, , verdict] of cases) if (!verdict.keep) expect(DIALOGUE_DROP_REASONS).toContain(verdict.reason);
    const order = ['dialogue_prompt_echo', 'dialogue_preamble', 'dialogue_mixed_script', 'dialogue_copied_document', 'dialogue_repeated_question', 'dialogue_near_repeat_question', 'dialogue_answer_repeats', 'dialogue_too_short', 'dialogue_unfinished'];
    expect(DIALOGUE_DROP_REASONS.filter((r) => order.includes(r))).toEqual(order);
  });

  it('reviewReply converts, cleans and judges a reply as the activity does', () => {
    const options = { ...opts(), labels: { user: '用户', assistant: '助手' }, countTokens, scriptConversion: 't2s' as const };
    const turn = { role: 'question' as const, lang: 'zh', messages: [{ role: 'system' as const, content: '请提出一个问题。' }], document: DOCUMENTS.zh!, past: [] };
    // Traditional script and a label in, the simplified question out, kept.
    expect(reviewReply({ content: '問題：為什麼柏林牆會在1989年突然倒塌？', finishReason: 'stop' }, turn, options)).toEqual({ text: QUESTIONS.zh, finishReason: 'stop', verdict: KEEP });
    // A follow-up repeating the first question, once cleaned, is judged against the dialogue so far.
    const followUp = { ...turn, past: [QUESTIONS.zh!, ANSWERS.zh!] };
    expect(reviewReply({ content: `1. ${QUESTIONS.zh}`, finishReason: 'stop' }, followUp, options).verdict).toEqual({ keep: false, reason: 'dialogue_repeated_question' });
  });

  it('a cleaned preamble output is judged by what follows it', () => {
    const { text } = cleanOutput('question', 'Voici la question : Pourquoi le mur de Berlin est-il tombé si soudainement en 1989 ?', 'stop', { user: 'Utilisateur', assistant: 'Assistant' });
    expect(text).toBe(QUESTIONS.fr);
    expect(checkCompletion(ask('fr', text), opts())).toEqual(KEEP);
  });

  describe.skipIf(!HAVE_SHARED_DATA)('on real wiki documents (../shared/data)', () => {
    // A sentence of each article asked back (copied), and a real question about the same sentence (kept).
    const real: Array<[string, string, string]> = [
      ['en', "The film focuses around Indonesia's religious pluralism, which often results in conflict between different beliefs?", 'Why did Bramantyo have difficulty finding backing for the film?'],
      ['zh', '数学透过抽象化和逻辑推理的使用，由计数、计算、量度和对物体形状及运动的观察而产生？', '数学为什么会从计数、计算和量度中产生？'],
      ['ru', 'Член ООН с 1991 года, ЕС и НАТО — с 2004 года?', 'Когда Литва вступила в ЕС и НАТО?'],
      ['fr', 'En 1905, il occupe la chaire de grammaire comparée au Collège de France ?', 'Pourquoi Meillet a-t-il occupé la chaire de grammaire comparée au Collège de France ?'],
      ['es', '¿Los nacionales andorranos son minoría en su país?', '¿Por qué los nacionales andorranos son minoría en su país?'],
    ];
    it.each(real)('%s: the copied sentence is dropped, the question about it kept', (lang, copied, asked) => {
      // Extracted zh text is converted to simplified before segmenting (t2s), as the model's output is.
      const document = normaliseOutput(sharedBackground(lang, 800).text, { scriptConversion: lang === 'zh' ? 't2s' : 'none' });
      expect(checkCompletion(ask(lang, copied, { document }), opts())).toEqual({ keep: false, reason: 'dialogue_copied_document' });
      expect(checkCompletion(ask(lang, asked, { document }), opts())).toEqual(KEEP);
      const pasted = document.split('\n').slice(0, 2).join('\n');
      expect(checkCompletion(reply(lang, pasted, { document, tokens: countTokens(pasted) }), opts())).toEqual({ keep: false, reason: 'dialogue_answer_repeats' });
    });
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
    ['<question> tags and an answer lead-in', '<question>Why does the document mention X?</question> Referring to the document, your answer would be:', 'Why does the document mention X?'],
    ['<q> tags', '<q>Why did the wall fall?</q>', 'Why did the wall fall?'],
    ['an unclosed <question> tag', '<question> Why did the wall fall?', 'Why did the wall fall?'],
    ['a stray closing tag and a trailer', 'Why did the wall fall?</question>\nAnswer: because of the protests.', 'Why did the wall fall?'],
    ['<вопрос> tags (ru)', '<вопрос>Почему стена пала?</вопрос>', 'Почему стена пала?'],
    ['[Question] … [/Question]', '[Question] Why did the wall fall?\n[/Question]', 'Why did the wall fall?'],
    ['"[Q]:"', '[Q]: Why did the wall fall?', 'Why did the wall fall?'],
    ['【问题】', '【问题】为什么柏林墙会倒塌？', '为什么柏林墙会倒塌？'],
    ['a trailing lead-in on the same line', 'Why did the wall fall? Referring to the document, your answer would be:', 'Why did the wall fall?'],
    ['an answer on the next lines', 'Why did the wall fall?\n\nAnswer: Because the border could no longer be held.', 'Why did the wall fall?'],
    ['a bold question and an answer', '**Why did the wall fall?**\nBecause of the protests.', 'Why did the wall fall?'],
    ['a trailer after "Mr." in the question', 'Why did Mr. Krenz open the border? Your answer:', 'Why did Mr. Krenz open the border?'],
    ['a trailer after a quoted title ending in "?"', 'Was "Why Not?" a hit in 1990? Your answer would be:', 'Was "Why Not?" a hit in 1990?'],
    ['zh: a lead-in after the full-width question mark', '为什么柏林墙会倒塌？根据文档，你的回答是：', '为什么柏林墙会倒塌？'],
    ['zh: a quoted question and a lead-in', '“为什么柏林墙会倒塌？”回答：', '为什么柏林墙会倒塌？'],
    ['ru: an answer on the next line', 'Почему стена пала?\nОтвет: потому что граница была открыта.', 'Почему стена пала?'],
    ['fr: "?" after a space, then a lead-in', 'Pourquoi le mur est-il tombé ? Selon le document, votre réponse serait :', 'Pourquoi le mur est-il tombé ?'],
    ['fr: « … » then a lead-in', `«${NBSP}Pourquoi le mur est-il tombé${NBSP}?${NBSP}» Votre réponse :`, `Pourquoi le mur est-il tombé${NBSP}?`],
    ['es: ¿…? then a lead-in', '¿Por qué cayó el muro? Según el documento, tu respuesta sería:', '¿Por qué cayó el muro?'],
    ['es: two questions then a trailer', '¿Por qué cayó el muro? ¿Y quién lo decidió?\nRespuesta: el gobierno.', '¿Por qué cayó el muro? ¿Y quién lo decidió?'],
    ['context kept, trailer cut', 'The wall fell in 1989. Why did it fall so suddenly? I will answer below.', 'The wall fell in 1989. Why did it fall so suddenly?'],
    ['fr preamble line "Pour formuler cette question, je serais :"', 'Pour formuler cette question, je serais :\nPourquoi le mur est-il tombé ?', 'Pourquoi le mur est-il tombé ?'],
    ['en preamble "Here is the question:"', 'Here is the question: Why did the wall fall?', 'Why did the wall fall?'],
    ['en preamble after an opener', 'Sure! Here is a follow-up question:\n\nWhy did the wall fall?', 'Why did the wall fall?'],
    ['fr preamble and « … »', `Voici la question${NBSP}: «${NBSP}Pourquoi le mur est-il tombé${NBSP}?${NBSP}»`, `Pourquoi le mur est-il tombé${NBSP}?`],
    ['ru preamble "Вот вопрос:"', 'Вот вопрос: Почему стена пала?', 'Почему стена пала?'],
    ['zh preamble "以下是问题："', '以下是问题：\n为什么柏林墙会倒塌？', '为什么柏林墙会倒塌？'],
    ['zh preamble after an opener', '好的，以下是我的追问：这对东欧有什么影响？', '这对东欧有什么影响？'],
    ['es preamble "Aquí está la pregunta:"', 'Aquí está la pregunta: ¿Por qué cayó el muro?', '¿Por qué cayó el muro?'],
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
    ['context before the question', 'The wall fell in 1989. Why did it fall so suddenly?'],
    ['two questions in a row', 'Why did the wall fall? And who decided to open it?'],
    ['a question with no question mark', 'Explain why the wall fell in 1989.'],
    ['a question mark inside a quoted title', 'How did "Who Framed Roger Rabbit?" change animation?'],
    ['a decimal and an abbreviation', 'Why did 1.5 million people, e.g. from Saxony, leave?'],
    ['HTML tags that are the topic', '<div> vs <span>: which one is a block element?'],
    ['zh: two questions', '为什么柏林墙会倒塌？又是谁决定开放边境的？'],
    ['zh: context then a question', '1989年东德爆发了大规模抗议。为什么柏林墙会突然倒塌？'],
    ['ru: context then a question', 'В 1989 году начались протесты. Почему стена пала так внезапно?'],
    ['fr: "?" after a no-break space', `Pourquoi le mur est-il tombé${NBSP}?`],
    ['fr: two questions with spaces before "?"', 'Pourquoi le mur est-il tombé ? Et qui a décidé de l’ouvrir ?'],
    ['es: context then ¿…?', 'El muro cayó en 1989. ¿Por qué cayó tan de repente?'],
    ['a lead-in that names no question', 'Here is a puzzle: why did the wall fall so suddenly?'],
    ['a bare preamble (left for checkCompletion to drop)', 'Pour formuler cette question, je serais :'],
    ['zh: a bare preamble', '以下是问题：'],
  ])('keeps %s intact', (_name, raw) => {
    expect(cleanQuestion(raw)).toBe(raw);
  });
});

describe('questionFinishReason', () => {
  const cases: Array<[string, string, string, string]> = [
    ['a whole question, then a ramble cut by the limit', 'length', 'Why did the town grow around the bridge? The answer is that the bridge was the', 'stop'],
    ['zh: a whole question, then a ramble', 'length', '为什么小镇围绕石桥发展起来？答案是石桥是', 'stop'],
    ['fr: question mark after a space, then a ramble', 'length', 'Pourquoi la ville s’est-elle développée autour du pont ? La réponse est que le', 'stop'],
    ['the question itself cut by the limit', 'length', 'Why did the town grow around the', 'length'],
    ['the output ends right on the question mark', 'length', 'Why did the town grow around the bridge?', 'length'],
    ['a question that stopped on its own', 'stop', 'Why did the town grow around the bridge?', 'stop'],
    ['a content-filtered output keeps its reason', 'content_filter', 'Why did the town grow? More text', 'content_filter'],
  ];
  it.each(cases)('%s', (_name, finish, raw, expected) => {
    expect(questionFinishReason(finish as never, raw, cleanQuestion(raw))).toBe(expected);
  });
});

describe('cleanAnswer', () => {
  const en = { user: 'User', assistant: 'Assistant' };
  const ru = { user: 'Пользователь', assistant: 'Ассистент' };
  const cases: Array<[string, string, { user: string; assistant: string }, string, boolean]> = [
    ['cuts a fake next user turn', 'The bridge came first.\n\nUser: What came next?', en, 'The bridge came first.', true],
    ['cuts a bold label in the pack language', 'Мост появился первым.\n**Пользователь**: А что потом?', ru, 'Мост появился первым.', true],
    ['cuts an English label in another pack', 'Мост появился первым.\nAssistant: ещё', ru, 'Мост появился первым.', true],
    ['keeps an answer with no turn label', 'The bridge came first.\nThe market followed.', en, 'The bridge came first.\nThe market followed.', false],
    ['keeps "user" inside a line', 'Each user: a merchant, had a ledger.', en, 'Each user: a merchant, had a ledger.', false],
    ['leaves an output that is only a turn label to the other gates', 'User:', en, 'User:', false],
    ['strips a speaker label the answer opens with (seen: es, Qwen2.5-0.5B)', 'Usuario: Porque la masa de agua del lago modifica un poco estas variaciones.', { user: 'Usuario', assistant: 'Asistente' }, 'Porque la masa de agua del lago modifica un poco estas variaciones.', false],
    ['strips an opening assistant label, then cuts a fake turn', 'Assistant: The bridge came first.\nUser: And then?', en, 'The bridge came first.', true],
    ['strips a leading preamble line', 'Voici la réponse :\nLe pont est venu en premier.', en, 'Le pont est venu en premier.', false],
    ['strips a preamble, then cuts a fake turn', 'Here is the answer: The bridge came first.\n\nUser: What came next?', en, 'The bridge came first.', true],
    ['keeps a bare preamble for checkCompletion to drop', 'Вот ответ:', ru, 'Вот ответ:', false],
    ['keeps a structuring lead-in that names no answer', 'Here are the key points:\n- the bridge\n- the market', en, 'Here are the key points:\n- the bridge\n- the market', false],
  ];
  it.each(cases)('%s', (_name, raw, labels, text, cut) => {
    expect(cleanAnswer(raw, labels)).toEqual({ text, cut });
  });
});

describe('cleanOutput', () => {
  const labels = { user: 'User', assistant: 'Assistant' };
  it('judges a question by questionFinishReason and an answer cut at a fake turn as stopped', () => {
    expect(cleanOutput('question', 'Why did it grow? Because the', 'length', labels)).toEqual({ text: 'Why did it grow?', finishReason: 'stop' });
    expect(cleanOutput('question', 'Why did it', 'length', labels)).toEqual({ text: 'Why did it', finishReason: 'length' });
    expect(cleanOutput('answer', 'It grew.\nUser: and then', 'length', labels)).toEqual({ text: 'It grew.', finishReason: 'stop' });
    expect(cleanOutput('answer', 'It grew because', 'length', labels)).toEqual({ text: 'It grew because', finishReason: 'length' });
  });
});
