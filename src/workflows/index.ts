/** Workflow bundle entry: every workflow the worker registers. */
export { buildDatasetWorkflow } from './build-dataset';
export { languageBuildWorkflow } from './language-build';
