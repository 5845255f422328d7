/** All activities, built from the worker's dependencies (samples' `createActivities(deps)` idiom). */
import type { Gateway } from '../llm/gateway';
import type { Storage } from '../storage/storage';
import { createLlmActivities } from './llm';
import { createProbeActivities } from './probe';

export interface ActivityDeps {
  gateway: Gateway;
  storage: Storage;
}

/** Every activity the worker registers, on both task queues. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createLlmActivities(deps),
    ...createProbeActivities(deps),
  };
}
