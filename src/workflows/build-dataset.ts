/**
 * The top-level build (paper Figure 3): the English sets are read and chat is culture-filtered once, every
 * language is built in parallel as a child workflow, then the dataset is assembled.
 */
import { defineQuery, getExternalWorkflowHandle, isCancellation, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Config } from '../config';
import type { AssembleResult } from '../activities/assemble';
import type { StageSummary } from '../core/export/manifest';
import { languageWorkflowId, stageWorkflowId } from '../names';
import { BuildControl, controlQuery, controlSignal, executeControlled, pauseSignal, setControlSignal, spendSignal, unpauseSignal, type BuildControlProgress, type CarriedControl, type ControlSettings } from './control';
import { languageBuildWorkflow } from './language-build';
import { workActivities } from './proxies';
import { quotaStageWorkflow } from './quota-stage';

export interface BuildInput {
  buildId: string;
  config: Config;
  /** Set by `resume`: spend, budget and concurrency of the build's earlier runs. */
  carried?: CarriedControl;
}

export interface BuildResult {
  buildId: string;
  dataset: AssembleResult;
  stages: StageSummary[];
}

/** What the build's `progress` query returns: where it is and its live control (paused, budget, spend). */
export interface BuildProgress {
  buildId: string;
  stage: string;
  control: BuildControlProgress;
}

/** The build's position and control state, for `ultralink status` and tests. */
export const buildProgressQuery = defineQuery<BuildProgress>('progress');

/** Builds every configured language and assembles the dataset. */
export async function buildDatasetWorkflow({ buildId, config, carried }: BuildInput): Promise<BuildResult> {
  const startedAt = new Date().toISOString();
  const work = workActivities(config);
  const stages: StageSummary[] = [];
  let stage = 'sources';
  const control = new BuildControl(config.control.budgetUsd, carried);
  const running = new Set<string>();
  let settings: ControlSettings = control.settings();
  let shownState = 'running';
  // Every message ends here: derive the settings, forward them whole to the running children, show the state.
  const apply = () => {
    const next = control.settings();
    if (next !== settings) {
      settings = next;
      for (const id of running) getExternalWorkflowHandle(id).signal(controlSignal, next).catch(() => undefined);
    }
    const p = control.progress();
    if (p.state !== shownState && stage !== 'done') {
      shownState = p.state;
      upsertSearchAttributes({ UltralinkState: [p.state] });
    }
    const budget = p.budgetUsd === undefined ? 'no budget' : `budget $${p.budgetUsd.toFixed(4)}`;
    const why = p.budgetPaused ? ` · **paused: estimated spend reached the budget; \`ultralink set ${buildId} --budget X\` raises it**` : p.paused ? ' · **paused**' : '';
    setCurrentDetails(`**build ${buildId}**: ${stage}${why}\n\nspent ~$${p.spentUsd.toFixed(4)} of ${budget}${p.concurrency ? ` · concurrency ${p.concurrency}` : ''}`);
  };
  setHandler(pauseSignal, () => {
    control.userPaused = true;
    apply();
  });
  setHandler(unpauseSignal, () => {
    control.userPaused = false;
    control.unpauses += 1;
    apply();
  });
  setHandler(setControlSignal, (s) => {
    control.set(s);
    apply();
  });
  setHandler(spendSignal, (r) => {
    control.report(r);
    apply();
  });
  setHandler(controlQuery, () => control.progress());
  setHandler(buildProgressQuery, () => ({ buildId, stage, control: control.progress() }));
  const controlled = <T>(workflowId: string, run: () => Promise<T>): Promise<T> => {
    running.add(workflowId);
    return run().finally(() => running.delete(workflowId));
  };
  try {
    upsertSearchAttributes({ UltralinkBuild: [buildId], UltralinkStage: ['sources'], UltralinkState: ['running'] });
    apply();
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
      stage = 'culture_filter';
      const started = Date.now();
      const judgeId = stageWorkflowId(buildId, config.agnostic.sourceLang, 'judge');
      const chat = agnostic.chat;
      const judged = await controlled(judgeId, () =>
        executeControlled(
          quotaStageWorkflow,
          {
            workflowId: judgeId,
            taskQueue: workflowInfo().taskQueue,
            args: [{ buildId, lang: config.agnostic.sourceLang, stage: 'judge', config, quota: chat.count, source: { ...chat, orderKey: 'judge' }, control: settings }],
            searchAttributes: { UltralinkBuild: [buildId], UltralinkLanguage: [config.agnostic.sourceLang], UltralinkStage: ['culture_filter'] },
          },
          () => settings,
        ),
      );
      stages.push({ lang: config.agnostic.sourceLang, stage: 'culture_filter', funnel: judged.funnel, calls: judged.calls, promptTokens: judged.promptTokens, completionTokens: judged.completionTokens, ms: Date.now() - started });
      agnostic.chat = await work.writeFilteredChat({ buildId, sourceKey: agnostic.chat.manifestKey });
      englishSources.chat = agnostic.chat.manifestKey;
    }

    upsertSearchAttributes({ UltralinkStage: ['languages'] });
    stage = 'languages';
    apply();
    const languages = await Promise.all(
      Object.keys(config.languages).map((lang) =>
        controlled(languageWorkflowId(buildId, lang), () =>
          executeControlled(
            languageBuildWorkflow,
            {
              workflowId: languageWorkflowId(buildId, lang),
              taskQueue: workflowInfo().taskQueue,
              args: [{ buildId, lang, config, agnostic, control: settings }],
              searchAttributes: { UltralinkBuild: [buildId], UltralinkLanguage: [lang] },
            },
            () => settings,
          ),
        ),
      ),
    );
    for (const l of languages) stages.push(...l.stages);

    upsertSearchAttributes({ UltralinkStage: ['assembly'] });
    stage = 'assembly';
    apply();
    const dataset = await work.assembleDataset({ buildId, sources: englishSources, stages, startedAt });
    // The list view tells a build whose files fail the quality thresholds from a clean one.
    stage = 'done';
    upsertSearchAttributes({ UltralinkStage: ['done'], UltralinkState: [dataset.qualityPassed ? 'done' : 'done_quality_failed'] });
    return { buildId, dataset, stages };
  } catch (err) {
    // The UI's list and `ultralink list` filter on the state: a failed build must not stay `running` there.
    if (!isCancellation(err)) upsertSearchAttributes({ UltralinkState: ['failed'], UltralinkStage: [stage] });
    throw err;
  }
}
