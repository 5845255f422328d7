/** Platform probe: the request of the one LLM call each language makes until the stages replace it. */
import type { Storage } from '../storage/storage';
import { putJson } from '../storage/json';
import { stageKey } from '../names';
import type { ChatRequest } from '../llm/types';

export interface ProbeRequestInput {
  buildId: string;
  lang: string;
  maxTokens: number;
  temperature: number;
  topP: number;
  seed: number;
}

/** Probe activities (work queue). */
export function createProbeActivities({ storage }: { storage: Storage }) {
  return {
    /** Writes the probe request under a deterministic key; rewriting it is harmless. */
    async writeProbeRequest(input: ProbeRequestInput): Promise<{ requestKey: string; resultKey: string }> {
      const requestKey = stageKey(input.buildId, input.lang, 'probe', 'request.json');
      const resultKey = stageKey(input.buildId, input.lang, 'probe', 'result.json');
      const request: ChatRequest = {
        messages: [{ role: 'user', content: `Write one sentence about Wikipedia in the language whose ISO code is "${input.lang}".` }],
        maxTokens: input.maxTokens,
        temperature: input.temperature,
        topP: input.topP,
        seed: input.seed,
      };
      await putJson(storage, requestKey, request);
      return { requestKey, resultKey };
    },
  };
}
