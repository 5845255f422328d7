/** The top-level build: one child workflow per language (paper Figure 3), then assembly. */
import { executeChild, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Config } from '../config';
import { languageWorkflowId } from '../names';
import { languageBuildWorkflow, type LanguageBuildResult } from './language-build';

export interface BuildInput {
  buildId: string;
  config: Config;
}

export interface BuildResult {
  buildId: string;
  languages: LanguageBuildResult[];
}

/** Builds every configured language in parallel and returns their counts. */
export async function buildDatasetWorkflow({ buildId, config }: BuildInput): Promise<BuildResult> {
  upsertSearchAttributes({ UltralinkBuild: [buildId], UltralinkStage: ['languages'], UltralinkState: ['running'] });
  const languages = await Promise.all(
    Object.keys(config.languages).map((lang) =>
      executeChild(languageBuildWorkflow, {
        workflowId: languageWorkflowId(buildId, lang),
        taskQueue: workflowInfo().taskQueue,
        args: [{ buildId, lang, config }],
        searchAttributes: { UltralinkBuild: [buildId], UltralinkLanguage: [lang] },
      }),
    ),
  );
  upsertSearchAttributes({ UltralinkStage: ['done'], UltralinkState: ['done'] });
  return { buildId, languages };
}
