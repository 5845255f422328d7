/**
 * Opt-in check against a real llama-cpp-python server (issue 15): starts `python -m llama_cpp.server` on 127.0.0.1
 * with a GGUF, probes which structured-output rung it accepts, judges a handful of conversations with the Figure 9
 * filter through the real gateway and OpenAI backend, and prints the rung, each verdict and its time. A fresh backend
 * then judges once without the probe, so the in-call step-down is exercised against the real server too.
 * llama-cpp-python's server has no parallel slots (it serves one request at a time), so calls run in turn.
 *
 *   npx tsx bench/llama-server.ts [--python P] [--model GGUF] [--threads N]
 * --python (or ULTRALINK_LLAMA_CPP_PYTHON): the venv's python, default /tmp/llcpp/venv/bin/python.
 * --model (or ULTRALINK_LLAMA_CPP_MODEL): default /tmp/models/qwen2.5-coder-0.5b-q4km.gguf.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { criteriaHit, judgeDecision, judgeJsonSchema, parseFilterPack, parseVerdict, renderJudgeMessages } from '../src/core/agnostic/judge';
import { createResponseCache } from '../src/llm/cache';
import { createGateway, type Gateway } from '../src/llm/gateway';
import { createOpenAiBackend } from '../src/llm/openai-backend';
import { countPromptTokens } from '../src/llm/prompt-tokens';
import { loadPack } from '../src/prompts/load';
import { createFsStorage } from '../src/storage/fs-storage';
import { DEFAULT_PYTHON, llamaCppPythonMissing, MODEL_ALIAS, startLlamaCppPythonServer } from './support/llama-cpp-python';

/** Conversations of both kinds: culture-free (kept) and naming people, places, brands or food (dropped). */
const CONVERSATIONS: string[][] = [
  ['How do I sort a list of numbers in Python?', 'Call sorted() on it: sorted([3, 1, 2]) returns [1, 2, 3].'],
  ['What is the derivative of x squared?', 'The derivative of x squared is 2x.'],
  ['Who was Abraham Lincoln?', 'Abraham Lincoln was the 16th president of the United States.'],
  ['Plan a weekend in Paris for me.', 'Start at the Louvre on Saturday morning, then walk along the Seine.'],
  ['Write an advert for the new iPhone from Apple.', 'The new iPhone: faster, brighter, yours.'],
];

function option(name: string, envName: string, fallback: string): string {
  const argv = process.argv.slice(2);
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1] : (process.env[envName] ?? fallback);
}

const seconds = (t0: number) => ((performance.now() - t0) / 1000).toFixed(1);

async function judge(gateway: Gateway, turns: string[]): Promise<string> {
  const pack = loadPack('en', 'filter', parseFilterPack);
  const t0 = performance.now();
  const r = await gateway.chat({ messages: renderJudgeMessages(pack, turns), maxTokens: 256, temperature: 0, topP: 1, seed: 1, jsonSchema: judgeJsonSchema });
  const parsed = parseVerdict(r.content);
  const what = parsed.ok
    ? `${judgeDecision(parsed.verdict).keep ? 'keep' : 'drop'} [${criteriaHit(parsed.verdict).join(', ') || 'no criterion'}]`
    : `unparsable (${parsed.reason}): ${JSON.stringify(r.content.slice(0, 160))}`;
  return `${what}; ${r.promptTokens}+${r.completionTokens} tokens, finish ${r.finishReason}, ${seconds(t0)} s`;
}

async function main(): Promise<void> {
  const python = option('python', 'ULTRALINK_LLAMA_CPP_PYTHON', DEFAULT_PYTHON);
  const model = option('model', 'ULTRALINK_LLAMA_CPP_MODEL', '/tmp/models/qwen2.5-coder-0.5b-q4km.gguf');
  const threads = option('threads', 'ULTRALINK_LLAMA_CPP_THREADS', '2');
  const missing = llamaCppPythonMissing(python, 'npx tsx bench/llama-server.ts --python V/bin/python');
  if (missing) {
    console.log(missing);
    process.exitCode = 1;
    return;
  }
  if (!existsSync(model)) {
    console.log(`no GGUF at ${model}; pass --model (any instruction-tuned chat GGUF, e.g. a Qwen2.5-0.5B-Instruct Q4_K_M)`);
    process.exitCode = 1;
    return;
  }

  // uvicorn's access log shows the status of every request, refused rungs included.
  const statuses: string[] = [];
  const access = (chunk: string) => {
    for (const m of chunk.matchAll(/"POST \/v1\/chat\/completions HTTP\/[\d.]+" (\d{3})/g)) statuses.push(m[1]);
  };
  // The log line may trail the response: wait (up to 2 s) for the 200 that ended the call.
  const answered = async (from: number) => {
    for (let i = 0; i < 40 && !statuses.slice(from).includes('200'); i++) await new Promise((r) => setTimeout(r, 50));
    return `HTTP ${statuses.slice(from).join(', ') || '(not logged)'}`;
  };
  let t0 = performance.now();
  const server = await startLlamaCppPythonServer({ python, modelPath: model, threads: Number(threads), ctx: 4096, onOutput: access });
  const url = server.url;
  console.log(`llama-cpp-python ${server.version}, model ${path.basename(model)}, ${threads} threads, ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)}`);
  console.log(`server up at ${url} in ${seconds(t0)} s`);
  const dirs: string[] = [];
  const gatewayOf = (backend: ReturnType<typeof createOpenAiBackend>) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'llama-server-bench-'));
    dirs.push(dir);
    return createGateway({ backend, cache: createResponseCache(createFsStorage(dir)), contextWindow: 4096, countPromptTokens });
  };
  const newBackend = () => createOpenAiBackend({ baseURL: url, apiKey: 'none', model: MODEL_ALIAS, timeoutMs: 300_000, keyEnvVar: 'ULTRALINK_LLM_API_KEY' });
  try {
    const probed = newBackend();
    t0 = performance.now();
    let from = statuses.length;
    const rung = await probed.probeStructuredOutput();
    console.log(`probe: structured output: ${rung} (${seconds(t0)} s; ${await answered(from)})`);
    const gateway = gatewayOf(probed);
    for (const turns of CONVERSATIONS) {
      from = statuses.length;
      const line = await judge(gateway, turns);
      console.log(`judge "${turns[0]}": ${line}; ${await answered(from)}`);
    }

    // No probe: the first call meets the refused json_schema itself and steps down within the call.
    from = statuses.length;
    const line = await judge(gatewayOf(newBackend()), CONVERSATIONS[2]);
    console.log(`unprobed backend, judge "${CONVERSATIONS[2][0]}": ${line}; ${await answered(from)}`);
  } finally {
    await server.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
