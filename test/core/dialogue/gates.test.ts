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
    ['leaves an output that is only a turn label to the other gates', 'User: why?', en, 'User: why?', false],
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
