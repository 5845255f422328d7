/**
 * llama-cpp-python's OpenAI-compatible server (`python -m llama_cpp.server`, built from PyPI) for the benches that
 * measure against a real server no one here wrote: bench/llama-server.ts (structured-output fallback) and
 * bench/embedded-vs-server.ts (speed anchor). Started on loopback, stopped with the bench, also on Ctrl-C.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freePort } from '../../src/devtools/temporal';

/** The model name the server answers to (`--model_alias`). */
export const MODEL_ALIAS = 'bench-model';

/** The venv python the benches use unless told otherwise. */
export const DEFAULT_PYTHON = process.env.ULTRALINK_LLAMA_CPP_PYTHON ?? '/tmp/llcpp/venv/bin/python';

/** Why `python` cannot serve, with how to build it and `rerun` (the bench's command with V/bin/python); undefined when it can. */
export function llamaCppPythonMissing(python: string, rerun: string): string | undefined {
  if (existsSync(python) && spawnSync(python, ['-c', 'import llama_cpp.server'], { encoding: 'utf8' }).status === 0) return undefined;
  return (
    `no llama-cpp-python server at ${python}. Build a venv (compiles llama.cpp, ~20 min on 2 cores) and point --python at it:\n` +
    `  python3 -m venv V && V/bin/pip install 'llama-cpp-python[server]==0.3.36'\n` +
    `  ${rerun}`
  );
}

export interface LlamaCppPythonServer {
  /** Base URL including /v1. */
  url: string;
  /** llama_cpp.__version__. */
  version: string;
  /** The server flags beyond model, alias, host and port. */
  flags: string[];
  /** Idempotent. */
  stop(): Promise<void>;
}

export interface ServerOptions {
  python: string;
  modelPath: string;
  threads: number;
  ctx: number;
  /** More server flags, e.g. `--n_batch 512`. */
  extraFlags?: string[];
  /** Every chunk the server writes to stdout or stderr (uvicorn's access log goes to either). */
  onOutput?: (chunk: string) => void;
}

/** Starts the server and resolves once /v1/models answers; fails when it exits first or after 180 s. */
export async function startLlamaCppPythonServer(opts: ServerOptions): Promise<LlamaCppPythonServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/v1`;
  const flags = ['--n_threads', String(opts.threads), '--n_threads_batch', String(opts.threads), '--n_ctx', String(opts.ctx), ...(opts.extraFlags ?? [])];
  const args = ['-m', 'llama_cpp.server', '--model', opts.modelPath, '--model_alias', MODEL_ALIAS, '--host', '127.0.0.1', '--port', String(port), ...flags, '--verbose', 'False'];
  const child = spawn(opts.python, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => opts.onOutput?.(d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    opts.onOutput?.(d.toString());
    stderr = (stderr + d.toString()).slice(-4_000);
  });
  let exited: string | undefined;
  child.on('exit', (code, signal) => (exited = `code ${code}, signal ${signal}; stderr: ${stderr.trim().split('\n').slice(-5).join(' | ')}`));
  const onSignal = (): void => {
    child.kill('SIGTERM');
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const stop = async (): Promise<void> => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (exited !== undefined) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  };
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`llama_cpp.server exited before answering (${exited})`);
    try {
      if ((await fetch(`${url}/models`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`llama_cpp.server did not answer at ${url} within 180 s`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const version = spawnSync(opts.python, ['-c', 'import llama_cpp; print(llama_cpp.__version__)'], { encoding: 'utf8' }).stdout.trim();
  return { url, version, flags, stop };
}
