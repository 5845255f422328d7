/** All activities, built from the worker's dependencies (samples' `createActivities(deps)` idiom). */
import type { Gateway } from '../llm/gateway';
import type { Storage } from '../storage/storage';
import { createAssembleActivities } from './assemble';
import { createBuildActivities } from './build';
import { createBuildContext } from './build-context';
import { createDialogueActivities } from './dialogue';
import { withFailureMapping } from './failures';
import { createJudgeActivities } from './judge';
import { createKnowledgeActivities } from './knowledge';
import { createSourceActivities } from './sources';
import { createTranslateActivities } from './translate';

export interface ActivityDeps {
  gateway: Gateway;
  storage: Storage;
}

/** Every activity the worker registers, on both task queues. */
export function createActivities(deps: ActivityDeps) {
  const ctx = createBuildContext(deps.storage, deps.gateway);
  return withFailureMapping({
    ...createBuildActivities(ctx),
    ...createKnowledgeActivities(ctx),
    ...createDialogueActivities(ctx),
    ...createSourceActivities(ctx),
    ...createJudgeActivities(ctx),
    ...createTranslateActivities(ctx),
    ...createAssembleActivities(ctx),
  });
}
