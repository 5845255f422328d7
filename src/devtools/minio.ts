/**
 * Dev/test tooling: finds or builds a MinIO server binary and runs it on loopback for the S3 tests.
 * Built from the Go module proxy; a cold build takes minutes, a warm Go build cache seconds.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, constants, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { freePort, which } from './temporal';

/** The module `go install` builds. MinIO publishes no semver tags, so `@latest` is a pseudo-version of master. */
export const MINIO_GO_MODULE = 'github.com/minio/minio';
/** What `@latest` resolved to on 2026-02 and built with Go 1.26; pinned so every machine builds the same server. */
export const MINIO_GO_VERSION = 'v0.0.0-20260212201848-7aac2a2c5b7c';

const BUILD_LOCK_STALE_MS = 30 * 60_000;
const HEALTH_TIMEOUT_MS = 60_000;

export interface EnsureMinioOptions {
  /** Project cache; the binary lands in `<cacheDir>/bin/minio`. */
  cacheDir: string;
  /** Module version to build; defaults to MINIO_GO_VERSION. */
  version?: string;
  log?: (msg: string) => void;
}

/** Path of a `minio` binary: PATH, then `<cacheDir>/bin`, else `go install` into the cache under a lock file. */
export async function ensureMinioBinary(opts: EnsureMinioOptions): Promise<string> {
  const log = opts.log ?? (() => {});
  const onPath = which('minio');
  if (onPath && (await isExecutable(onPath))) return onPath;
  const cacheDir = path.resolve(opts.cacheDir); // GOBIN must be absolute
  const binDir = path.join(cacheDir, 'bin');
  const target = path.join(binDir, 'minio');
  if (await isExecutable(target)) return target;
  await mkdir(binDir, { recursive: true });
  return withBuildLock(path.join(cacheDir, 'minio.lock'), log, async () => {
    if (await isExecutable(target)) return target; // another process built it while we waited
    const spec = `${MINIO_GO_MODULE}@${opts.version ?? MINIO_GO_VERSION}`;
    // Build into a private dir and rename, so a concurrent reader never runs a half-copied binary.
    const stage = path.join(cacheDir, `minio-build-${process.pid}`);
    await rm(stage, { recursive: true, force: true });
    await mkdir(stage, { recursive: true });
    const logFile = path.join(cacheDir, 'minio-build.log');
    log(`building MinIO: go install ${spec} (minutes on a cold Go cache; log: ${logFile})`);
    const started = Date.now();
    try {
      await runGoInstall(spec, stage, logFile);
      await rename(path.join(stage, 'minio'), target);
    } finally {
      await rm(stage, { recursive: true, force: true });
    }
    log(`built MinIO in ${Math.round((Date.now() - started) / 1000)} s: ${target}`);
    return target;
  });
}

async function runGoInstall(spec: string, gobin: string, logFile: string): Promise<void> {
  const go = which('go');
  if (!go) throw new Error(`Go is not on PATH: install Go ≥ 1.24 (MinIO's go.mod minimum) or put a minio binary on PATH`);
  const out = createWriteStream(logFile);
  await new Promise<void>((resolve) => out.once('open', () => resolve()));
  const child = spawn(go, ['install', spec], { env: { ...process.env, GOBIN: gobin }, stdio: ['ignore', out, out] });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  out.end();
  if (code !== 0) {
    const tail = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
    throw new Error(`go install ${spec} failed (exit ${code}); see ${logFile}:\n${tail}`);
  }
}

/** Holds `<lockFile>` (O_EXCL, our pid inside) around `fn`; waits for a live holder, breaks a dead or stale one. */
async function withBuildLock<T>(lockFile: string, log: (msg: string) => void, fn: () => Promise<T>): Promise<T> {
  let announced = false;
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number.parseInt(await readFile(lockFile, 'utf8').catch(() => ''), 10);
    const age = Date.now() - ((await stat(lockFile).catch(() => undefined))?.mtimeMs ?? Date.now());
    // An empty file is a holder between open and write; only the age rule may break it.
    if ((Number.isInteger(holder) && !pidAlive(holder)) || age > BUILD_LOCK_STALE_MS) {
      await rm(lockFile, { force: true });
      continue;
    }
    if (!announced) log(`waiting for another process building MinIO (lock ${lockFile})`);
    announced = true;
    await sleep(1000);
  }
  try {
    return await fn();
  } finally {
    await rm(lockFile, { force: true });
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

export interface StartMinioOptions {
  cacheDir: string;
  /** Object data; created when missing. */
  dataDir: string;
  /** Defaults to a free loopback port. */
  port?: number;
  /** Bucket created at start; defaults to `ultralink-test`. */
  bucket?: string;
  log?: (msg: string) => void;
}

export interface MinioServer {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  /** The variables the SDK's default credential chain reads, for a child process or `process.env`. */
  env: { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string; AWS_REGION: string };
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `minio server` on 127.0.0.1 with per-run root credentials, no console, and one bucket. */
export async function startMinio(opts: StartMinioOptions): Promise<MinioServer> {
  const binary = await ensureMinioBinary({ cacheDir: opts.cacheDir, log: opts.log });
  await mkdir(opts.dataDir, { recursive: true });
  const accessKeyId = `ul${randomBytes(9).toString('hex')}`;
  const secretAccessKey = randomBytes(24).toString('base64url');
  const region = 'us-east-1';
  const bucket = opts.bucket ?? 'ultralink-test';
  // A port from freePort can be taken before minio binds it; retry with a new one unless the caller fixed it.
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const endpoint = `http://127.0.0.1:${port}`;
    const output: string[] = [];
    const child = spawn(binary, ['server', '--address', `127.0.0.1:${port}`, '--quiet', opts.dataDir], {
      env: {
        ...process.env,
        MINIO_ROOT_USER: accessKeyId,
        MINIO_ROOT_PASSWORD: secretAccessKey,
        MINIO_BROWSER: 'off',
        MINIO_UPDATE: 'off',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.length > 50) output.shift();
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    let exited = false;
    const exitedPromise = new Promise<void>((resolve) =>
      child.once('exit', () => {
        exited = true;
        resolve();
      }),
    );
    // A test runner that dies without afterAll must not leave a server behind.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    const stop = async () => {
      process.off('exit', killOnExit);
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exitedPromise;
      clearTimeout(timer);
    };

    const healthy = await waitHealthy(endpoint, () => exited);
    if (!healthy) {
      await stop();
      const detail = output.join('').trim().split('\n').slice(-10).join('\n');
      if (opts.port === undefined && attempt < 3 && /address already in use/i.test(detail)) continue;
      throw new Error(`minio did not become healthy at ${endpoint}${exited ? ` (exit ${child.exitCode})` : ''}:\n${detail}`);
    }
    const admin = new S3Client({ region, endpoint, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
    try {
      await admin.send(new CreateBucketCommand({ Bucket: bucket }));
    } catch (err) {
      if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes((err as Error).name)) {
        await stop();
        throw err;
      }
    } finally {
      admin.destroy();
    }
    opts.log?.(`minio up at ${endpoint}, bucket ${bucket}`);
    return {
      endpoint,
      region,
      accessKeyId,
      secretAccessKey,
      bucket,
      env: { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_REGION: region },
      process: child,
      stop,
    };
  }
}

async function waitHealthy(endpoint: string, hasExited: () => boolean): Promise<boolean> {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  while (Date.now() < deadline && !hasExited()) {
    try {
      const res = await fetch(`${endpoint}/minio/health/live`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return true;
    } catch {
      /* not listening yet */
    }
    await sleep(200);
  }
  return false;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
