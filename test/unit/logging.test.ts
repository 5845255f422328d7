/** Structured logs: tags read from activity input or the workflow id, levels of the file stream. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { activityTags, createLogger, workerLogFile } from '../../src/logging';

describe('activityTags', () => {
  it.each([
    { name: 'input names all three', args: [{ buildId: 'b', lang: 'zh', stage: 'math', x: 1 }], wf: 'other/en/code/0', want: { buildId: 'b', lang: 'zh', stage: 'math' } },
    { name: 'subset stands for the stage', args: [{ buildId: 'b', subset: 'code' }], wf: 'b', want: { buildId: 'b', stage: 'code' } },
    { name: 'input lacks stage: from the batch workflow id', args: [{ buildId: 'b', lang: 'fr' }], wf: 'b/fr/chat_specific/50', want: { buildId: 'b', lang: 'fr', stage: 'chat_specific' } },
    { name: 'no object input: all from the workflow id', args: ['x'], wf: 'b/ru/knowledge', want: { buildId: 'b', lang: 'ru', stage: 'knowledge' } },
    { name: 'top build workflow: build id only', args: [], wf: 'b', want: { buildId: 'b' } },
    { name: 'nothing known', args: [null], wf: undefined, want: {} },
    { name: 'empty strings are ignored', args: [{ buildId: '', lang: '' }], wf: 'b/en', want: { buildId: 'b', lang: 'en' } },
  ])('$name', ({ args, wf, want }) => {
    expect(activityTags(args, wf)).toEqual(want);
  });
});

describe('createLogger', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ultralink-log-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function lines(file: string): Array<Record<string, unknown>> {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  it('writes info and up as JSON lines to the file by default, debug only when verbose', () => {
    const quiet = workerLogFile(path.join(dir, 'quiet'));
    const q = createLogger({ file: quiet });
    q.debug('hidden');
    q.info({ buildId: 'b', lang: 'en', stage: 'math' }, 'shown');
    expect(lines(quiet).map((l) => l.msg)).toEqual(['shown']);
    expect(lines(quiet)[0]).toMatchObject({ level: 30, buildId: 'b', lang: 'en', stage: 'math' });

    const loud = workerLogFile(path.join(dir, 'loud'));
    createLogger({ file: loud, verbose: true }).debug('details');
    expect(lines(loud).map((l) => l.msg)).toEqual(['details']);
  });
});
