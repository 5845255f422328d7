/**
 * Checks the inputs a build reads from this machine before anything starts: a mistyped dump path, a missing
 * SFT file or a broken prompt pack is reported at once, all of them together, with the config field to fix,
 * instead of as a failed workflow minutes later. Remote inputs (URLs, `s3://`, `storage:` keys) are the
 * workers' to read; their absence still fails the build at once (a PermanentError), naming the location.
 */
import { accessSync, constants, statSync } from 'node:fs';
import type { Config } from './config';
import { parseFilterPack } from './core/agnostic/judge';
import { parseTranslatePack } from './core/agnostic/translate';
import { loadDialoguePack, loadPack } from './prompts/load';

/** A location read through the local filesystem (not a URL, an S3 URI or a storage key). */
function isLocalPath(location: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(location);
}

/** Why a local file cannot be read, or undefined when it can. */
function unreadable(file: string): string | undefined {
  try {
    if (!statSync(file).isFile()) return 'is not a file';
    accessSync(file, constants.R_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (err as Error).message})`;
  }
}

/** Every problem with the build's local inputs and prompt packs, each naming the field and the file; [] when all is well. */
export function checkBuildInputs(config: Config): string[] {
  const problems: string[] = [];
  const file = (field: string, location: string | undefined) => {
    if (location === undefined || !isLocalPath(location)) return;
    const why = unreadable(location);
    if (why) problems.push(`${field}: ${location} ${why}`);
  };
  const pack = (load: () => unknown) => {
    try {
      load();
    } catch (err) {
      problems.push((err as Error).message);
    }
  };
  const { sourceLang, sources } = config.agnostic;
  for (const [lang, entry] of Object.entries(config.languages)) {
    if (entry.chatSpecific > 0) {
      file(`languages.${lang}.dump`, entry.dump);
      file(`languages.${lang}.dumpIndex`, entry.dumpIndex);
      if (entry.dump) pack(() => loadDialoguePack(lang));
    }
    if (lang !== sourceLang && (['chat', 'math', 'code'] as const).some((s) => sources[s].length > 0)) pack(() => loadPack(lang, 'translate', parseTranslatePack));
  }
  for (const subset of ['chat', 'math', 'code'] as const) sources[subset].forEach((s, i) => file(`agnostic.sources.${subset}[${i}].path`, s.path));
  if (sources.chat.length > 0) pack(() => loadPack(sourceLang, 'filter', parseFilterPack));
  return problems;
}
