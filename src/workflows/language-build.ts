/** One language's build. For now a platform probe: one LLM call through the gateway, stored. */
import type { Config } from '../config';
import { llmActivities, workActivities } from './proxies';

export interface LanguageBuildInput {
  buildId: string;
  lang: string;
  config: Config;
}

export interface LanguageBuildResult {
  lang: string;
  resultKey: string;
  promptTokens: number;
  completionTokens: number;
}

/** Probe pipeline: write a request, call the LLM once, keep the result (replaced by the stages). */
export async function languageBuildWorkflow({ buildId, lang, config }: LanguageBuildInput): Promise<LanguageBuildResult> {
  const work = workActivities(config);
  const llm = llmActivities(config);
  const { requestKey, resultKey } = await work.writeProbeRequest({ buildId, lang, maxTokens: config.llm.maxTokens, temperature: config.llm.temperature, topP: config.llm.topP, seed: config.seed });
  const call = await llm.chatCompletion({ requestKey, resultKey });
  return { lang, resultKey, promptTokens: call.promptTokens, completionTokens: call.completionTokens };
}
