import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureMinioBinary, MINIO_GO_MODULE, MINIO_GO_VERSION } from '../../src/devtools/minio';

// A stand-in `go` on PATH records each build, so lock and cache behaviour are checked without a real build.
const root = mkdtempSync(path.join(os.tmpdir(), 'ul-minio-tool-'));
const fakeBin = path.join(root, 'fake-bin');
const countFile = path.join(root, 'builds.txt');
let savedPath: string | undefined;
let n = 0;

function writeFakeGo(exitCode: number): void {
  rmSync(fakeBin, { recursive: true, force: true });
  mkdirSync(fakeBin, { recursive: true });
  const script = `#!/bin/sh
PATH=/usr/bin:/bin
echo "$*" >> "${countFile}"
sleep 1
if [ ${exitCode} -ne 0 ]; then echo "compile error: something broke"; exit ${exitCode}; fi
printf '#!/bin/sh\\necho fake minio\\n' > "$GOBIN/minio"
chmod +x "$GOBIN/minio"
`;
  writeFileSync(path.join(fakeBin, 'go'), script);
  chmodSync(path.join(fakeBin, 'go'), 0o755);
}

function builds(): string[] {
  return existsSync(countFile) ? readFileSync(countFile, 'utf8').trim().split('\n').filter(Boolean) : [];
}

beforeEach(() => {
  savedPath = process.env.PATH;
  process.env.PATH = fakeBin; // nothing else: no real minio or go is found
  rmSync(countFile, { force: true });
});
afterEach(() => {
  process.env.PATH = savedPath;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('ensureMinioBinary', () => {
  it('builds the pinned module once for concurrent callers, then serves the cache', async () => {
    writeFakeGo(0);
    const cacheDir = path.join(root, `cache-${n++}`);
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => ensureMinioBinary({ cacheDir })));
    expect(new Set([a, b, c])).toEqual(new Set([path.join(cacheDir, 'bin', 'minio')]));
    expect(builds()).toEqual([`install ${MINIO_GO_MODULE}@${MINIO_GO_VERSION}`]);
    await ensureMinioBinary({ cacheDir });
    expect(builds()).toHaveLength(1);
    expect(existsSync(path.join(cacheDir, 'minio.lock'))).toBe(false);
  });

  it('prefers a minio already on PATH', async () => {
    writeFakeGo(0);
    writeFileSync(path.join(fakeBin, 'minio'), '#!/bin/sh\n');
    chmodSync(path.join(fakeBin, 'minio'), 0o755);
    expect(await ensureMinioBinary({ cacheDir: path.join(root, `cache-${n++}`) })).toBe(path.join(fakeBin, 'minio'));
    expect(builds()).toEqual([]);
  });

  it('breaks a lock left by a dead process', async () => {
    writeFakeGo(0);
    const cacheDir = path.join(root, `cache-${n++}`);
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(path.join(cacheDir, 'minio.lock'), '999999999');
    expect(await ensureMinioBinary({ cacheDir })).toBe(path.join(cacheDir, 'bin', 'minio'));
    expect(builds()).toHaveLength(1);
  });

  it('a failed build reports the log tail, releases the lock and leaves no binary', async () => {
    writeFakeGo(2);
    const cacheDir = path.join(root, `cache-${n++}`);
    await expect(ensureMinioBinary({ cacheDir })).rejects.toThrow(/exit 2[\s\S]*compile error: something broke/);
    expect(existsSync(path.join(cacheDir, 'minio.lock'))).toBe(false);
    expect(existsSync(path.join(cacheDir, 'bin', 'minio'))).toBe(false);
    expect(readFileSync(path.join(cacheDir, 'minio-build.log'), 'utf8')).toContain('something broke');
  });

  it('without Go, says what to install', async () => {
    process.env.PATH = path.join(root, 'empty');
    await expect(ensureMinioBinary({ cacheDir: path.join(root, `cache-${n++}`) })).rejects.toThrow(/Go is not on PATH/);
  });
});
