/** `ultralink doctor`: checks Temporal, the LLM endpoint and storage; exits non-zero naming what is missing. */
import type { Command } from 'commander';
import { readWorkerSecrets, type Config, type WorkerSecrets } from '../../config';
import { runChecks, type Check } from '../../doctor';
import { configFrom, withConfig } from '../common';
import { localModelCached } from '../../llm/model-cache';
import { createOpenAiBackend } from '../../llm/openai-backend';

export function registerDoctor(program: Command): void {
  withConfig(program.command('doctor').description('check that Temporal, the LLM endpoint and storage are usable')).action(async (opts) => {
    const config = configFrom(opts);
    const secrets = readWorkerSecrets(config);
    const checks = await runChecks(config, secrets, () => localModelCached(config));
    const llm = checks.find((c) => c.name === 'llm');
    if (llm?.ok && config.llm.baseUrl) checks.splice(checks.indexOf(llm) + 1, 0, await structuredOutputCheck(config, secrets));
    for (const c of checks) {
      console.log(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(8)} ${c.detail}`);
      if (!c.ok && c.fix) console.log(`      fix: ${c.fix}`);
    }
    if (checks.some((c) => !c.ok)) process.exitCode = 1;
  });
}

/** Which structured-output rung the endpoint accepts (a few tokens per rung); prompt-only still works, so it is no failure. */
async function structuredOutputCheck(config: Config, secrets: WorkerSecrets): Promise<Check> {
  const { baseUrl, model, apiKeyEnv, timeoutMs } = config.llm;
  // A first completion may load the model: allow more than the model listing's 10 s.
  const backend = createOpenAiBackend({ baseURL: baseUrl!, apiKey: secrets.llmApiKey ?? 'none', model, timeoutMs: Math.min(timeoutMs, 60_000), keyEnvVar: apiKeyEnv });
  try {
    return { name: 'llm', ok: true, detail: `structured output: ${await backend.probeStructuredOutput()}` };
  } catch (err) {
    const message = String((err as Error)?.message ?? err).split('\n')[0];
    return { name: 'llm', ok: false, detail: `structured output probe failed: ${message}`, fix: `check that ${model} answers chat completions at ${baseUrl}` };
  }
}
