/** All activities, built from the worker's dependencies (samples' `createActivities(deps)` idiom). */
import type { Gateway } from '../llm/gateway';
import type { Storage } from '../storage/storage';
import { createAgnosticActivities } from './agnostic';
import { createAssembleActivities } from './assemble';
import { createBuildActivities } from './build';
import { createBuildContext } from './build-context';
import { createDialogueActivities } from './dialogue';
import { withFailureMapping } from './failures';
import { createKnowledgeActivities } from './knowledge';

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
    ...createAgnosticActivities(ctx),
    ...createAssembleActivities(ctx),
  });
}
