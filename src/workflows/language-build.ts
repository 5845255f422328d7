/**
 * One language's build (paper Figure 3): the upper pipeline grounds dialogues in the language's Wikipedia;
 * the lower one translates the shared, culture-filtered English sets. Each box is a child workflow.
 */
import { executeChild, getExternalWorkflowHandle, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Config } from '../config';
import { subsetType } from '../core/agnostic/format';
import { streamKey } from '../core/agnostic/sample';
import { stageWorkflowId } from '../names';
import type { StageSummary } from '../core/export/manifest';
import { controlSignal, executeControlled, initialControl, newerControl, type ControlSettings } from './control';
import { knowledgeWorkflow } from './knowledge';
import type { StageSource } from './item-batch';
import { quotaStageWorkflow, type QuotaStageResult } from './quota-stage';

export interface LanguageBuildInput {
  buildId: string;
  lang: string;
  config: Config;
  /** Shared sources of the lower pipeline: the filtered chat set and the math/code sets (absent = not configured). */
  agnostic: Partial<Record<'chat' | 'math' | 'code', { manifestKey: string; count: number }>>;
  /** Live settings when the language started (later changes arrive by `controlSignal`). */
  control?: ControlSettings;
}

/** The language's live settings and the stages it has running, to forward changes to. */
interface LanguageControl {
  settings: ControlSettings;
  running: Set<string>;
}

export interface LanguageBuildResult {
  lang: string;
  stages: StageSummary[];
}

/** Builds every subset of one language. */
export async function languageBuildWorkflow(input: LanguageBuildInput): Promise<LanguageBuildResult> {
  const { buildId, lang, config } = input;
  const stages: StageSummary[] = [];
  const entry = config.languages[lang]!;
  const control: LanguageControl = { settings: input.control ?? initialControl(), running: new Set() };
  setHandler(controlSignal, (c) => {
    const next = newerControl(control.settings, c);
    if (next === control.settings) return;
    control.settings = next;
    // Forwarded whole to every running stage; one that just finished ignores it (the signal fails, harmlessly).
    for (const id of control.running) getExternalWorkflowHandle(id).signal(controlSignal, next).catch(() => undefined);
  });
  // The lower pipeline (translation of the shared English sets) does not wait for the upper one.
  const lower = translateAgnostic(input, control);
  if (entry.dump && entry.chatSpecific > 0) {
    const started = Date.now();
    const knowledge = await executeChild(knowledgeWorkflow, {
      workflowId: stageWorkflowId(buildId, lang, 'knowledge'),
      taskQueue: workflowInfo().taskQueue,
      args: [{ buildId, lang, config }],
      searchAttributes: { UltralinkBuild: [buildId], UltralinkLanguage: [lang], UltralinkStage: ['knowledge'] },
    });
    stages.push({ lang, stage: 'knowledge', funnel: knowledge.funnel, calls: 0, promptTokens: 0, completionTokens: 0, ms: Date.now() - started });
    const source: StageSource = { manifestKey: knowledge.manifestKey, count: knowledge.segments, orderKey: `${lang}/chat_specific` };
    stages.push(await runStage(input, control, 'chat_specific', entry.chatSpecific, source));
  }
  stages.push(...(await lower));
  return { lang, stages };
}

/** Paper §2.2–2.4: the agnostic subsets of one language, concurrently; English keeps its full sets (Table 2, assembly passes them through). */
async function translateAgnostic(input: LanguageBuildInput, control: LanguageControl): Promise<StageSummary[]> {
  const { lang, config } = input;
  if (lang === config.agnostic.sourceLang && config.agnostic.englishFullSets) return [];
  const subsets = (['chat', 'math', 'code'] as const).filter((subset) => input.agnostic[subset]);
  return Promise.all(
    subsets.map((subset) =>
      // Agnostic chat draws from one stream shared by all languages (§2.4); math and code draw per language.
      runStage(input, control, subsetType(subset), config.agnostic.quotas[subset], { ...input.agnostic[subset]!, orderKey: streamKey(lang, subset) }),
    ),
  );
}

async function runStage(input: LanguageBuildInput, control: LanguageControl, stage: 'chat_specific' | 'chat_agnostic' | 'math' | 'code', quota: number, source: StageSource): Promise<StageSummary> {
  const { buildId, lang, config } = input;
  const started = Date.now();
  const workflowId = stageWorkflowId(buildId, lang, stage);
  control.running.add(workflowId);
  const r: QuotaStageResult = await executeControlled(
    quotaStageWorkflow,
    {
      workflowId,
      taskQueue: workflowInfo().taskQueue,
      args: [{ buildId, lang, stage, config, quota, source, control: control.settings }],
      searchAttributes: { UltralinkBuild: [buildId], UltralinkLanguage: [lang], UltralinkStage: [stage] },
      staticSummary: `${lang} · ${stage}: ${quota} to keep from ${source.count} candidates`,
    },
    () => control.settings,
  ).finally(() => control.running.delete(workflowId));
  return { lang, stage, quota, status: r.status, funnel: r.funnel, calls: r.calls, promptTokens: r.promptTokens, completionTokens: r.completionTokens, ms: Date.now() - started };
}
