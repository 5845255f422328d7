/**
 * Workflow code must replay the histories of builds that were running when it shipped: a Temporal worker
 * replays a workflow's history on every cache miss, and a command the old history did not record is a
 * nondeterminism error that stalls the build. Each folder under test/fixtures/histories holds every workflow
 * history of a small build recorded at that commit (test/fixtures/histories/record.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { REPO_ROOT } from '../support/shared-data';

const ROOT = path.join(REPO_ROOT, 'test', 'fixtures', 'histories');
/** Commit → what its histories exercise, the LLM-stage activities that show it, and the patches it recorded. */
const RECORDINGS: Record<string, { what: string; activities: string[]; patches?: string[] }> = {
  '9a0c3f7': { what: 'one activity per question, answer and translated text', activities: ['askQuestion', 'giveAnswer', 'translateField', 'saveTranslation'] },
  a7b72cc: { what: 'one activity per dialogue and per translated item', activities: ['writeDialogue', 'translateItem'] },
  '52a2523': { what: 'a stage cap shared between batches of two', activities: ['writeDialogue', 'translateItem'], patches: ['stage-wide-concurrency'] },
};

describe.each(Object.entries(RECORDINGS))('histories recorded at %s', (commit, { what, activities: expected, patches = [] }) => {
  const files = readdirSync(path.join(ROOT, commit)).filter((f) => f.endsWith('.history.pb')).sort();

  it(`covers the dialogue and translation batches (${what})`, () => {
    const activities = files.flatMap((f) => readHistory(path.join(ROOT, commit, f)).events!.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []));
    expect(activities).toEqual(expect.arrayContaining(expected));
  });

  it.each(patches)('records the %s patch marker', (patch) => {
    const ids = files.flatMap((f) =>
      readHistory(path.join(ROOT, commit, f)).events!.flatMap((e) => {
        const data = e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data;
        return data ? [(JSON.parse(Buffer.from(data).toString()) as { id: string }).id] : [];
      }),
    );
    expect(ids).toContain(patch);
  });

  it('carries no path of the machine that recorded it', () => {
    for (const f of files) expect(readFileSync(path.join(ROOT, commit, f)).toString('latin1'), f).not.toMatch(/\/(tmp|work|root|home)\//);
  });

  it.each(files)('%s replays on the current workflow code', async (file) => {
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, readHistory(path.join(ROOT, commit, file)), `replay-${commit}-${file}`);
  });
});

/** A recorded history (binary protobuf, as record.ts writes it). */
function readHistory(file: string): temporal.api.history.v1.History {
  return temporal.api.history.v1.History.decode(readFileSync(file));
}
