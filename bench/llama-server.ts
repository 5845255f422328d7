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
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { criteriaHit, judgeDecision, judgeJsonSchema, parseFilterPack, parseVerdict, renderJudgeMessages } from '../src/core/agnostic/judge';
import { freePort } from '../src/devtools/temporal';
import { createResponseCache } from '../src/llm/cache';
import { createGateway, type Gateway } from '../src/llm/gateway';
import { createOpenAiBackend } from '../src/llm/openai-backend';
import { countPromptTokens } from '../src/llm/prompt-tokens';
import { loadPack } from '../src/prompts/load';
import { createFsStorage } from '../src/storage/fs-storage';

const MODEL_ALIAS = 'bench-model';
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

/** Polls /v1/models until the server answers; fails when the process exits first or after `timeoutMs`. */
async function waitUp(url: string, exited: () => string | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const gone = exited();
    if (gone !== undefined) throw new Error(`llama_cpp.server exited before answering (${gone})`);
    try {
      if ((await fetch(`${url}/models`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`llama_cpp.server did not answer at ${url} within ${timeoutMs / 1000} s`);
}

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
  const python = option('python', 'ULTRALINK_LLAMA_CPP_PYTHON', '/tmp/llcpp/venv/bin/python');
  const model = option('model', 'ULTRALINK_LLAMA_CPP_MODEL', '/tmp/models/qwen2.5-coder-0.5b-q4km.gguf');
  const threads = option('threads', 'ULTRALINK_LLAMA_CPP_THREADS', '2');
  const importable = existsSync(python) && spawnSync(python, ['-c', 'import llama_cpp.server'], { encoding: 'utf8' }).status === 0;
  if (!importable) {
    console.log(
      `no llama-cpp-python server at ${python}. Build a venv (compiles llama.cpp, ~20 min on 2 cores) and point --python at it:\n` +
        `  python3 -m venv V && V/bin/pip install 'llama-cpp-python[server]==0.3.36'\n` +
        `  npx tsx bench/llama-server.ts --python V/bin/python`,
    );
    process.exitCode = 1;
    return;
  }
  if (!existsSync(model)) {
    console.log(`no GGUF at ${model}; pass --model (any instruction-tuned chat GGUF, e.g. a Qwen2.5-0.5B-Instruct Q4_K_M)`);
    process.exitCode = 1;
    return;
  }

  const port = await freePort();
  const url = `http://127.0.0.1:${port}/v1`;
  const args = ['-m', 'llama_cpp.server', '--model', model, '--model_alias', MODEL_ALIAS, '--host', '127.0.0.1', '--port', String(port)];
  args.push('--n_threads', threads, '--n_threads_batch', threads, '--n_ctx', '4096', '--verbose', 'False');
  const server = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  // uvicorn's access log shows the status of every request, refused rungs included (stdout by default; read both).
  const statuses: string[] = [];
  const access = (d: Buffer) => {
    for (const m of d.toString().matchAll(/"POST \/v1\/chat\/completions HTTP\/[\d.]+" (\d{3})/g)) statuses.push(m[1]);
  };
  server.stdout.on('data', access);
  server.stderr.on('data', (d: Buffer) => {
    access(d);
    stderr = (stderr + d.toString()).slice(-4_000);
  });
  // The log line may trail the response: wait (up to 2 s) for the 200 that ended the call.
  const answered = async (from: number) => {
    for (let i = 0; i < 40 && !statuses.slice(from).includes('200'); i++) await new Promise((r) => setTimeout(r, 50));
    return `HTTP ${statuses.slice(from).join(', ') || '(not logged)'}`;
  };
  let exit: string | undefined;
  server.on('exit', (code, signal) => (exit = `code ${code}, signal ${signal}; stderr: ${stderr.trim().split('\n').slice(-5).join(' | ')}`));
  const version = spawnSync(python, ['-c', 'import llama_cpp; print(llama_cpp.__version__)'], { encoding: 'utf8' }).stdout.trim();
  console.log(`llama-cpp-python ${version}, model ${path.basename(model)}, ${threads} threads, ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)}`);
  const dirs: string[] = [];
  const gatewayOf = (backend: ReturnType<typeof createOpenAiBackend>) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'llama-server-bench-'));
    dirs.push(dir);
    return createGateway({ backend, cache: createResponseCache(createFsStorage(dir)), contextWindow: 4096, countPromptTokens });
  };
  const newBackend = () => createOpenAiBackend({ baseURL: url, apiKey: 'none', model: MODEL_ALIAS, timeoutMs: 300_000, keyEnvVar: 'ULTRALINK_LLM_API_KEY' });
  try {
    let t0 = performance.now();
    await waitUp(url, () => exit, 180_000);
    console.log(`server up at ${url} in ${seconds(t0)} s`);

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
    server.kill('SIGTERM');
    if (exit === undefined) await new Promise((r) => server.once('exit', r));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
