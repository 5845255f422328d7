/**
 * Workflow code must replay the histories of builds that were running when it shipped: a Temporal worker
 * replays a workflow's history on every cache miss, and a command the old history did not record is a
 * nondeterminism error that stalls the build. Each folder under test/fixtures/histories holds every workflow
 * history of a small build recorded by that version (test/fixtures/histories/record.ts); a version's folder
 * stays until no build of it can still be running (README, "Upgrading workers").
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { REPO_ROOT } from '../support/shared-data';

const ROOT = path.join(REPO_ROOT, 'test', 'fixtures', 'histories');
/** Recorded version → the LLM-stage activities its histories must show (what they exercise). */
const RECORDINGS: Record<string, { activities: string[] }> = {
  // 0.1.0, the pre-release code: one activity per dialogue and per translated item, a stage cap shared by batches of two.
  '0.1.0': { activities: ['writeDialogue', 'translateItem', 'judgeConversation'] },
};

describe.each(Object.entries(RECORDINGS))('histories recorded at %s', (commit, { activities: expected }) => {
  const files = readdirSync(path.join(ROOT, commit)).filter((f) => f.endsWith('.history.pb')).sort();

  it('covers the dialogue, judge and translation batches', () => {
    const activities = files.flatMap((f) => readHistory(path.join(ROOT, commit, f)).events!.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []));
    expect(activities).toEqual(expect.arrayContaining(expected));
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
