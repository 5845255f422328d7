/**
 * The top-level build (paper Figure 3): the English sets are read and chat is culture-filtered once, every
 * language is built in parallel as a child workflow, then the dataset is assembled.
 */
import { executeChild, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Config } from '../config';
import type { AssembleResult, StageSummary } from '../activities/assemble';
import { languageWorkflowId, stageWorkflowId } from '../names';
import { languageBuildWorkflow } from './language-build';
import { workActivities } from './proxies';
import { quotaStageWorkflow } from './quota-stage';

export interface BuildInput {
  buildId: string;
  config: Config;
}

export interface BuildResult {
  buildId: string;
  dataset: AssembleResult;
  stages: StageSummary[];
}

/** Builds every configured language and assembles the dataset. */
export async function buildDatasetWorkflow({ buildId, config }: BuildInput): Promise<BuildResult> {
  const startedAt = new Date().toISOString();
  const work = workActivities(config);
  const stages: StageSummary[] = [];
  upsertSearchAttributes({ UltralinkBuild: [buildId], UltralinkStage: ['sources'], UltralinkState: ['running'] });
  await work.saveBuildConfig({ buildId, config });

  const agnostic: Partial<Record<'chat' | 'math' | 'code', { manifestKey: string; count: number }>> = {};
  const englishSources: Partial<Record<'chat' | 'math' | 'code', string>> = {};
  for (const subset of ['chat', 'math', 'code'] as const) {
    if (config.agnostic.sources[subset].length === 0) continue;
    const prepared = await work.prepareSource({ buildId, subset });
    stages.push({ lang: config.agnostic.sourceLang, stage: `source_${subset}`, funnel: { read: prepared.read, prefilter: prepared.prefilter }, calls: 0, promptTokens: 0, completionTokens: 0, ms: 0 });
    agnostic[subset] = { manifestKey: prepared.manifestKey, count: prepared.count };
    englishSources[subset] = prepared.manifestKey;
  }
  if (agnostic.chat) {
    upsertSearchAttributes({ UltralinkStage: ['culture_filter'] });
    const started = Date.now();
    const judged = await executeChild(quotaStageWorkflow, {
      workflowId: stageWorkflowId(buildId, config.agnostic.sourceLang, 'judge'),
      taskQueue: workflowInfo().taskQueue,
      args: [{ buildId, lang: config.agnostic.sourceLang, stage: 'judge', config, quota: agnostic.chat.count, source: { ...agnostic.chat, orderKey: 'judge' } }],
      searchAttributes: { UltralinkBuild: [buildId], UltralinkLanguage: [config.agnostic.sourceLang], UltralinkStage: ['culture_filter'] },
    });
    stages.push({ lang: config.agnostic.sourceLang, stage: 'culture_filter', funnel: judged.funnel, calls: judged.calls, promptTokens: judged.promptTokens, completionTokens: judged.completionTokens, ms: Date.now() - started });
    agnostic.chat = await work.writeFilteredChat({ buildId, sourceKey: agnostic.chat.manifestKey });
    englishSources.chat = agnostic.chat.manifestKey;
  }

  upsertSearchAttributes({ UltralinkStage: ['languages'] });
  const languages = await Promise.all(
    Object.keys(config.languages).map((lang) =>
      executeChild(languageBuildWorkflow, {
        workflowId: languageWorkflowId(buildId, lang),
        taskQueue: workflowInfo().taskQueue,
        args: [{ buildId, lang, config, agnostic }],
        searchAttributes: { UltralinkBuild: [buildId], UltralinkLanguage: [lang] },
      }),
    ),
  );
  for (const l of languages) stages.push(...l.stages);

  upsertSearchAttributes({ UltralinkStage: ['assembly'] });
  const dataset = await work.assembleDataset({ buildId, sources: englishSources, stages, startedAt });
  // The list view tells a build whose files fail the quality thresholds from a clean one.
  upsertSearchAttributes({ UltralinkStage: ['done'], UltralinkState: [dataset.qualityPassed ? 'done' : 'done_quality_failed'] });
  return { buildId, dataset, stages };
}
