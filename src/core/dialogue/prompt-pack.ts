/** Dialogue prompt packs (paper §2.1.2, Figures 4-8): schema and parsing of one language's pack. */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const text = z.string().trim().min(1);

const promptPartSchema = z.object({
  /** Describes the task (Figure 4, "system prompt"). */
  system: text,
  /** Detailed suggestions for the model (Figure 4, "principles"). */
  principles: text,
});

/** The placeholders the output framing of the first user turn must hold, each exactly once. */
export const FIRST_TURN_SLOTS = ['document', 'question'] as const;

/** Schema of `src/prompts/<lang>.dialogue.yaml`; every part required and non-empty. */
export const dialoguePackSchema = z.object({
  /** Recorded with every dialogue, e.g. `en-dialogue-1`. */
  version: text,
  /** Target language code, e.g. `zh`. */
  language: text,
  /** Names used to render the dialogue history, in the pack's language. */
  labels: z.object({ history: text, user: text, assistant: text }),
  initialQuestion: promptPartSchema,
  initialAnswer: promptPartSchema,
  inDepthQuestion: promptPartSchema,
  expansiveQuestion: promptPartSchema,
  followupAnswer: promptPartSchema,
  /** First user turn of an output line, with `{document}` and `{question}` slots. */
  firstTurnFraming: text.refine(
    (framing) => FIRST_TURN_SLOTS.every((slot) => framing.split(`{${slot}}`).length === 2),
    { message: `must contain each of ${FIRST_TURN_SLOTS.map((s) => `{${s}}`).join(', ')} exactly once` },
  ),
});

/** A validated dialogue prompt pack. */
export type DialoguePack = z.infer<typeof dialoguePackSchema>;

/** One system prompt + principles pair of a pack. */
export type PromptPart = z.infer<typeof promptPartSchema>;

/** Parses and validates a pack's YAML; throws an Error naming every missing or invalid part. */
export function parseDialoguePack(yamlText: string): DialoguePack {
  let raw: unknown;
  try {
    raw = parseYaml(yamlText);
  } catch (err) {
    throw new Error(`dialogue pack: invalid YAML: ${(err as Error).message}`);
  }
  const result = dialoguePackSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const part = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return `part '${part}' is missing or invalid: ${issue.message}`;
  });
  throw new Error(`dialogue pack: ${problems.join('; ')}`);
}
