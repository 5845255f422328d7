/**
 * Bench: the dialogue stage at scale on a private Temporal dev server with the zero-latency fake LLM.
 * Prints the stage's progress (its `progress` query) every few seconds, then the throughput and the history
 * figures of every workflow of the build: events per dialogue and per LLM call, the largest history, and the
 * extrapolation to the paper's 147K dialogues.
 *
 *   npx tsx bench/dialogue-scale.ts [--dialogues=2000] [--turns=2] [--concurrency=32] [--work=8]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startBuild, waitForBuild } from '../src/client';
import { mergeConfigInput, resolveConfig, toolEnv, type ConfigInput } from '../src/config';
import { ensureTemporalBinary, freePort, startDevServer } from '../src/devtools/temporal';
import { languageWorkflowId, stageWorkflowId } from '../src/names';
import { createFsStorage } from '../src/storage/fs-storage';
import { createWorkers } from '../src/worker';
import { progressQuery } from '../src/workflows/quota-stage';
import { startFakeOpenAi } from '../test/support/fake-openai';
import { TINY_THRESHOLDS, writeTinyDump } from '../test/support/tiny-data';

const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const DIALOGUES = Number(arg('dialogues', '2000'));
const TURNS = Number(arg('turns', '2'));
const CONCURRENCY = Number(arg('concurrency', '32'));
const WORK = Number(arg('work', '8'));
const PAPER_DIALOGUES = 147_000;

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ultralink-dscale-'));
  const port = await freePort();
  const server = await startDevServer({ binary: ensureTemporalBinary(toolEnv().cacheDir), port, namespace: 'default', logFile: path.join(dir, 'temporal.log') });
  const fake = await startFakeOpenAi();
  try {
    // ~9 segments per tiny article with these thresholds.
    const articles = Math.ceil((DIALOGUES * 1.08) / 8.8);
    const input = mergeConfigInput(TINY_THRESHOLDS, {
      stateDir: dir,
      languages: { en: { dump: writeTinyDump(dir, 'en', articles), chatSpecific: DIALOGUES } },
      temporal: { address: server.address },
      llm: { baseUrl: fake.url, model: 'fake-model', concurrency: CONCURRENCY },
      worker: { workConcurrency: WORK },
      knowledge: { minSegmentTokens: 20, maxSegmentTokens: 60 },
      dialogue: { maxTurns: TURNS },
    }) as ConfigInput;
    const config = resolveConfig(input);
    const workers = await createWorkers({ config, secrets: { llmApiKey: 'bench' } });
    const running = workers.run();
    const client = new Client({ connection: await Connection.connect({ address: server.address }) });
    const started = Date.now();
    const { buildId } = await startBuild(client, config);
    const stageId = stageWorkflowId(buildId, 'en', 'chat_specific');
    const timer = setInterval(() => {
      client.workflow
        .getHandle(stageId)
        .query(progressQuery)
        .then((p) => console.log(`${((Date.now() - started) / 1000).toFixed(0)} s: ${p.kept}/${p.total} kept, ${p.inFlight} in flight, ${p.calls} calls`))
        .catch(() => undefined);
    }, 10_000);
    const result = await waitForBuild(client, buildId);
    clearInterval(timer);
    const seconds = (Date.now() - started) / 1000;
    const stage = result.stages.find((s) => s.stage === 'chat_specific')!;

    const storage = createFsStorage(path.join(dir, 'data'));
    const batches = await storage.list(`builds/${buildId}/en/chat_specific/batches/`);
    const ids = [buildId, languageWorkflowId(buildId, 'en'), stageWorkflowId(buildId, 'en', 'knowledge'), stageId, ...batches.map((k) => stageWorkflowId(buildId, 'en', 'chat_specific', Number(path.basename(k, '.json'))))];
    const lengths = await Promise.all(ids.map(async (id) => [id, (await client.workflow.getHandle(id).describe()).historyLength] as const));
    const batchEvents = lengths.slice(4).reduce((n, [, k]) => n + k, 0);
    const [largestId, largest] = [...lengths].sort((a, b) => b[1] - a[1])[0]!;
    const perDialogue = batchEvents / stage.funnel.chat_specific!.total;
    console.log(
      [
        `${DIALOGUES} dialogues (maxTurns ${TURNS}), ${stage.calls} LLM calls in ${seconds.toFixed(0)} s: ${(DIALOGUES / seconds).toFixed(1)} dialogues/s, ${(stage.calls / seconds).toFixed(1)} calls/s`,
        `events per dialogue ${perDialogue.toFixed(1)}, per LLM call ${(batchEvents / stage.calls).toFixed(1)}; largest history ${largest} (${largestId}); stage ${lengths[3]![1]} over ${batches.length} batches`,
        `147K dialogues: ~${Math.round(perDialogue * PAPER_DIALOGUES).toLocaleString('en')} events in ${Math.ceil(PAPER_DIALOGUES / 50).toLocaleString('en')} batch histories`,
      ].join('\n'),
    );
    workers.shutdown();
    await running;
  } finally {
    await fake.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
