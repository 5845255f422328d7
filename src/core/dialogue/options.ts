/** Options of the language-specific dialogue stage (paper §2.1.2, Table 2), validated and defaulted by zod. */
import { z } from 'zod';

/** Dialogues per language from Table 2 of the paper. */
export const TABLE2_DIALOGUES_PER_LANGUAGE: Readonly<Record<string, number>> = Object.freeze({
  en: 10_000,
  zh: 36_000,
  ru: 37_000,
  fr: 30_000,
  es: 34_000,
});

/** Schema of the dialogue options; `parse({})` yields every default. */
export const dialogueOptionsSchema = z.object({
  /** End probability after turn 1; doubles after each further turn (the original scripts start at 0.1). */
  endProbability: z.number().min(0).max(1).default(0.1),
  /** Hard cap on turns per dialogue; with the default end probability dialogues end by turn 5 anyway. */
  maxTurns: z.number().int().min(1).max(50).default(6),
  /** Share of follow-ups that are in-depth (Figure 7) rather than expansive (Figure 8). */
  inDepthShare: z.number().min(0).max(1).default(0.5),
  /** Shortest kept answer, in cl100k_base tokens. */
  minAnswerTokens: z.number().int().min(0).default(32),
  /** Shortest kept question, in characters (code points) after cleaning. */
  minQuestionChars: z.number().int().min(0).default(6),
  /** Completion limit of a question call. */
  maxQuestionTokens: z.number().int().min(1).default(256),
  /** Completion limit of an answer call. */
  maxAnswerTokens: z.number().int().min(1).default(2048),
  /** Whether the first user turn of an output line carries the document (as in the released UltraLink data). */
  includeDocumentInFirstTurn: z.boolean().default(true),
  /** Quota of dialogues per language code. */
  dialoguesPerLanguage: z
    .record(z.string(), z.number().int().min(0))
    .default(() => ({ ...TABLE2_DIALOGUES_PER_LANGUAGE })),
});

/** Resolved dialogue options. */
export type DialogueOptions = z.infer<typeof dialogueOptionsSchema>;
