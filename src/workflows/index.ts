/** Workflow bundle entry: every workflow the worker registers. */
export { buildDatasetWorkflow } from './build-dataset';
export { languageBuildWorkflow } from './language-build';
export { knowledgeWorkflow } from './knowledge';
export { quotaStageWorkflow } from './quota-stage';
export { itemBatchWorkflow } from './item-batch';
