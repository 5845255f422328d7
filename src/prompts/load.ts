/** Loads prompt packs shipped beside this file as `<lang>.<kind>.yaml` (I/O; core only parses). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDialoguePack, type DialoguePack } from '../core/dialogue/prompt-pack';
import { BadInputError } from '../core/errors';

// Language codes and pack kinds become file names: restrict them so no path can escape this folder.
const SAFE_NAME = /^[a-z][a-z0-9_-]{0,31}$/i;

/** Absolute path of the pack file for a language and kind, e.g. (`zh`, `dialogue`). */
export function packPath(lang: string, kind: string): string {
  if (!SAFE_NAME.test(lang) || !SAFE_NAME.test(kind)) {
    throw new BadInputError(`prompt pack: invalid language or kind ${JSON.stringify({ lang, kind })}`);
  }
  return path.join(__dirname, `${lang}.${kind}.yaml`);
}

/** Reads a pack file and validates it with `parse`; errors name the file. */
export function loadPack<T>(lang: string, kind: string, parse: (yamlText: string) => T): T {
  const file = packPath(lang, kind);
  let yamlText: string;
  try {
    yamlText = readFileSync(file, 'utf8');
  } catch (err) {
    throw new BadInputError(`prompt pack ${file}: cannot read: ${(err as Error).message}`);
  }
  try {
    return parse(yamlText);
  } catch (err) {
    throw new BadInputError(`prompt pack ${file}: ${(err as Error).message}`);
  }
}

/** Loads and validates the dialogue pack of a language; its `language` field must match. */
export function loadDialoguePack(lang: string): DialoguePack {
  const pack = loadPack(lang, 'dialogue', parseDialoguePack);
  if (pack.language !== lang) {
    throw new BadInputError(`prompt pack ${packPath(lang, 'dialogue')}: language is '${pack.language}', expected '${lang}'`);
  }
  return pack;
}
