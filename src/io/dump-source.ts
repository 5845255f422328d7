/**
 * Wikipedia dump input (§2.1.1): local path, http(s) URL or storage key; bz2 / gzip / xz / plain XML by
 * magic bytes; native bz2 decoding in a child process; bz2 damage recovery at block granularity; byte
 * ranges for multistream dumps; streaming UTF-8 decoding that marks invalid bytes; resumable page reading.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { once } from 'node:events';
import { createGunzip } from 'node:zlib';
import { PermanentError } from '../core/errors';
import type { Storage } from '../storage/storage';
import { INVALID_UTF8_MARK, isPageError, parsePages, type RawPage, type XmlChunk } from '../core/wiki/xml-pages';
import { selectPage, type PageSelectionOptions } from '../core/wiki/page-selection';
import { parseIndexLine } from '../core/wiki/multistream-index';

/** Where a dump lives. */
export type DumpInput = string | { storage: Storage; key: string };

/** Compression detected from the first bytes. */
export type DumpFormat = 'bz2' | 'gzip' | 'xz' | 'xml';

/** A native bz2 decoder on PATH. */
export type Bz2Decoder = 'lbzip2' | 'bzip2';

/** The dump (or its URL / key) does not exist. Permanent: retrying cannot help. */
export class DumpNotFoundError extends PermanentError {
  constructor(message: string) {
    super('DumpNotFound', message);
  }
}

/** The first bytes match no supported format. Permanent. */
export class DumpFormatError extends PermanentError {
  constructor(message: string) {
    super('DumpFormat', message);
  }
}

/** Neither lbzip2 nor bzip2 is installed. Permanent for this worker. */
export class Bz2DecoderMissingError extends PermanentError {
  constructor(message: string) {
    super('Bz2DecoderMissing', message);
  }
}

/** Options of `openDump`. */
export interface OpenDumpOptions {
  /** First byte to read (a bz2 stream start for multistream input). */
  start?: number;
  /** One past the last byte; default: end of input. */
  end?: number;
  /** bz2 decoder; default bzip2 (measured faster here: bench/decompress.ts), lbzip2 when bzip2 is absent. */
  bz2Decoder?: Bz2Decoder;
  /** lbzip2 worker threads; default: lbzip2's own (all cores). */
  threads?: number;
  /** Accept uncompressed non-XML text (multistream index files). */
  plainText?: boolean;
}

/** Compressed-input progress. */
export interface ByteProgress {
  /** Input bytes consumed so far (within the range), for MB/s and ETA. */
  bytesRead: number;
  /** Bytes of the range, when known. */
  totalBytes?: number;
}

/** An opened dump: decoded text chunks with in-band breaks where damaged input was skipped. */
export interface DumpStream {
  readonly format: DumpFormat;
  readonly description: string;
  /** True when the range stops before the end of the file (the root element is not expected to close). */
  readonly partial: boolean;
  /** Decoded XML text; a `StreamBreak` marks skipped damage. Call once. */
  chunks(): AsyncGenerator<XmlChunk>;
  progress(): ByteProgress;
}

/** Random-access byte reader over the three kinds of input. */
interface ByteSource {
  description: string;
  size?: number;
  read(start: number, end?: number): AsyncIterable<Buffer>;
}

const READ_CHUNK = 1 << 20;

async function fileSource(path: string): Promise<ByteSource> {
  const st = await stat(path).catch(() => undefined);
  if (!st || !st.isFile()) throw new DumpNotFoundError(`dump file not found: ${path}`);
  return {
    description: path,
    size: st.size,
    read: (start, end) => {
      if (end !== undefined && end <= start) return emptyBytes();
      return createReadStream(path, { start, end: end === undefined ? undefined : end - 1, highWaterMark: READ_CHUNK });
    },
  };
}

async function* emptyBytes(): AsyncGenerator<Buffer> {}

async function httpSource(url: string): Promise<ByteSource> {
  const head = await fetch(url, { method: 'HEAD' }).catch((e: Error) => {
    throw new DumpNotFoundError(`dump URL unreachable: ${url} (${e.message})`);
  });
  if (!head.ok) throw new DumpNotFoundError(`dump URL not found: ${url} (HTTP ${head.status})`);
  const length = Number(head.headers.get('content-length'));
  return {
    description: url,
    size: Number.isFinite(length) && length > 0 ? length : undefined,
    async *read(start, end) {
      if (end !== undefined && end <= start) return;
      const ranged = start > 0 || end !== undefined;
      const headers: Record<string, string> = ranged ? { range: `bytes=${start}-${end === undefined ? '' : end - 1}` } : {};
      const res = await fetch(url, { headers });
      if (ranged ? res.status !== 206 : !res.ok) {
        throw new Error(`HTTP ${res.status} for ${url} bytes ${start}-${end ?? ''}: the server must honour Range requests`);
      }
      if (!res.body) return;
      for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) yield Buffer.from(part.buffer, part.byteOffset, part.byteLength);
    },
  };
}

async function storageSource(storage: Storage, key: string): Promise<ByteSource> {
  const size = await storage.size(key);
  if (size === undefined) throw new DumpNotFoundError(`dump not found in storage: ${storage.location} key ${key}`);
  return {
    description: `${storage.location}/${key}`,
    size,
    async *read(start, end) {
      const stop = Math.min(end ?? size, size);
      if (start === 0 && stop === size) {
        for await (const part of await storage.readStream(key)) yield part as Buffer;
        return;
      }
      // Bounded sub-ranges keep memory flat whatever the range group size.
      for (let at = start; at < stop; at += 8 * READ_CHUNK) yield await storage.getRange(key, at, Math.min(stop, at + 8 * READ_CHUNK));
    },
  };
}

async function sourceFor(input: DumpInput): Promise<ByteSource> {
  if (typeof input !== 'string') return storageSource(input.storage, input.key);
  if (/^https?:\/\//i.test(input)) return httpSource(input);
  return fileSource(input);
}

async function readHead(src: ByteSource, start: number, end: number | undefined, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let len = 0;
  const stop = end === undefined ? start + n : Math.min(end, start + n);
  for await (const part of src.read(start, stop)) {
    parts.push(part);
    len += part.length;
    if (len >= n) break;
  }
  return Buffer.concat(parts).subarray(0, n);
}

/** Format from the first bytes; throws `DumpFormatError` naming the expected formats. */
export function detectFormat(head: Buffer, description = 'input'): DumpFormat {
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'BZh') return 'bz2';
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  let i = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09)) i++;
  if (i < head.length && head[i] === 0x3c) return 'xml';
  throw new DumpFormatError(
    `unknown dump format for ${description}: expected bzip2 (BZh), gzip (1f 8b), xz (fd 37 7a 58 5a 00) or plain XML starting with '<'`,
  );
}

function detectTextFormat(head: Buffer, description: string): DumpFormat {
  try {
    return detectFormat(head, description);
  } catch {
    return 'xml';
  }
}

const decoderPresence = new Map<string, boolean>();

function onPath(cmd: string): boolean {
  let known = decoderPresence.get(cmd);
  if (known === undefined) {
    const r = spawnSync(cmd, ['--help'], { stdio: 'ignore' });
    known = !(r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT');
    decoderPresence.set(cmd, known);
  }
  return known;
}

/**
 * The bz2 decoder to use. Default bzip2: on the shared enwiki excerpt with 2 busy cores it beat lbzip2
 * (bench/decompress.ts); lbzip2 only pays with idle cores and large single-stream files, so it is opt-in.
 */
export function bz2DecoderAvailable(prefer?: Bz2Decoder): Bz2Decoder {
  const order: Bz2Decoder[] = prefer ? [prefer] : ['bzip2', 'lbzip2'];
  for (const cmd of order) if (onPath(cmd)) return cmd;
  throw new Bz2DecoderMissingError(
    `no bzip2 decoder found: install lbzip2 (preferred, multi-threaded) or bzip2, e.g. apt-get install -y lbzip2`,
  );
}

function bz2Args(cmd: Bz2Decoder, threads?: number): string[] {
  return cmd === 'lbzip2' && threads ? ['-dc', '-n', String(threads)] : ['-dc'];
}

class DecoderFailure extends Error {}

/** Runs a decoder process over `input`, yielding its stdout; throws `DecoderFailure` on a non-zero exit. */
async function* runDecoder(cmd: string, args: string[], input: AsyncIterable<Buffer>, onFed: (n: number) => void): AsyncGenerator<Buffer> {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  child.stdin.on('error', () => undefined); // EPIPE when the decoder stops early; its exit code tells why
  let stopFeeding = false;
  const feeding = (async () => {
    try {
      for await (const part of input) {
        if (stopFeeding || child.stdin.destroyed) break;
        onFed(part.length);
        if (!child.stdin.write(part)) await Promise.race([once(child.stdin, 'drain').catch(() => undefined), exited]);
      }
    } catch (e) {
      child.kill();
      throw e;
    } finally {
      child.stdin.end();
    }
  })();
  let finished = false;
  try {
    for await (const part of child.stdout) yield part as Buffer;
    const code = await exited;
    const feedError: unknown = await feeding.then(() => undefined, (e: unknown) => e);
    finished = true;
    if (feedError) throw feedError; // an input failure (I/O, HTTP) is not damage: surface it
    if (code !== 0) throw new DecoderFailure(`${cmd} exited with ${code}: ${stderr.trim().split('\n')[0] ?? ''}`);
  } finally {
    if (!finished) {
      stopFeeding = true;
      child.kill();
      await feeding.catch(() => undefined);
    }
  }
}

/** Decodes one small in-memory bz2 input fully (block-mode recovery). */
async function decodeAll(cmd: Bz2Decoder, input: Buffer): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of runDecoder(cmd, ['-dc'], (async function* () { yield input; })(), () => undefined)) parts.push(part);
  return Buffer.concat(parts);
}

// bz2 bit-level framing: 48-bit block and end-of-stream magics, bit-aligned (as bzip2recover scans).
const BLOCK_MAGIC = [0x31, 0x41, 0x59, 0x26, 0x53, 0x59];
const EOS_MAGIC = [0x17, 0x72, 0x45, 0x38, 0x50, 0x90];

interface ShiftPattern {
  shift: number;
  full: Buffer; // bytes wholly covered by the magic at this bit shift
  firstMask: number;
  firstBits: number;
  lastMask: number;
  lastBits: number;
}

function shiftPatterns(magic: number[]): ShiftPattern[] {
  const out: ShiftPattern[] = [];
  for (let s = 0; s < 8; s++) {
    const bytes = new Array<number>(7).fill(0);
    for (let b = 0; b < 48; b++) {
      const bit = (magic[b >> 3] >> (7 - (b & 7))) & 1;
      const at = s + b;
      bytes[at >> 3] |= bit << (7 - (at & 7));
    }
    if (s === 0) out.push({ shift: 0, full: Buffer.from(bytes.slice(0, 6)), firstMask: 0, firstBits: 0, lastMask: 0, lastBits: 0 });
    else {
      out.push({
        shift: s,
        full: Buffer.from(bytes.slice(1, 6)),
        firstMask: 0xff >> s,
        firstBits: bytes[0],
        lastMask: (0xff << (8 - s)) & 0xff,
        lastBits: bytes[6],
      });
    }
  }
  return out;
}

const BLOCK_PATTERNS = shiftPatterns(BLOCK_MAGIC);
const EOS_PATTERNS = shiftPatterns(EOS_MAGIC);

/** First bit offset ≥ fromBit where the 48-bit magic starts in buf, or -1. */
export function findMagicBit(buf: Buffer, fromBit: number, patterns: ShiftPattern[] = BLOCK_PATTERNS): number {
  let best = -1;
  for (const p of patterns) {
    const lead = p.shift === 0 ? 0 : 1;
    let from = Math.max(0, (fromBit >> 3) - 1 + lead);
    for (;;) {
      const idx = buf.indexOf(p.full, from);
      if (idx < 0) break;
      const q = idx - lead;
      const bit = q * 8 + p.shift;
      if (best >= 0 && bit >= best) break;
      const ok =
        q >= 0 &&
        bit >= fromBit &&
        (p.shift === 0 ||
          ((buf[q] & p.firstMask) === p.firstBits && idx + 5 < buf.length && (buf[idx + 5] & p.lastMask) === p.lastBits));
      if (ok) {
        best = bit;
        break;
      }
      from = idx + 1;
    }
  }
  return best;
}

function readBits(buf: Buffer, bit: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const at = bit + i;
    v = v * 2 + ((buf[at >> 3] >> (7 - (at & 7))) & 1);
  }
  return v;
}

/** Wraps block bits [startBit, endBit) as a standalone one-block bz2 stream (header, block, EOS, CRC). */
export function wrapBlock(buf: Buffer, startBit: number, endBit: number): Buffer {
  const nBits = endBit - startBit;
  const totalBits = 32 + nBits + 48 + 32;
  const out = Buffer.alloc(Math.ceil(totalBits / 8));
  out.write('BZh9', 0, 'latin1');
  const q = startBit >> 3;
  const r = startBit & 7;
  const nBytes = Math.ceil(nBits / 8);
  if (r === 0) buf.copy(out, 4, q, q + nBytes);
  else for (let i = 0; i < nBytes; i++) out[4 + i] = ((buf[q + i] << r) | ((buf[q + i + 1] ?? 0) >> (8 - r))) & 0xff;
  const tail = nBits & 7;
  if (tail) out[4 + nBytes - 1] &= (0xff << (8 - tail)) & 0xff;
  const crc = readBits(buf, startBit + 48, 32);
  let at = 32 + nBits;
  const put = (value: number, bits: number) => {
    for (let i = bits - 1; i >= 0; i--, at++) if (Math.floor(value / 2 ** i) & 1) out[at >> 3] |= 1 << (7 - (at & 7));
  };
  for (const b of EOS_MAGIC) put(b, 8);
  put(crc, 32); // a one-block stream's combined CRC equals its block CRC
  return out;
}

interface ScannedBlock {
  stream: Buffer;
  /** False for a final block cut by the end of input (truncation, reported by the XML parser). */
  terminated: boolean;
}

/** Splits bz2 bytes (any number of streams, starting anywhere) into standalone one-block streams. */
async function* scanBlocks(bytes: AsyncIterable<Buffer>, onRead: (n: number) => void): AsyncGenerator<ScannedBlock> {
  let pending: Buffer = Buffer.alloc(0);
  let cur = -1; // bit offset of the current block magic in pending, or -1 while looking for one
  let searchFrom = 0;
  const advance = (): ScannedBlock | undefined => {
    if (cur < 0) {
      const found = findMagicBit(pending, searchFrom);
      if (found < 0) {
        const keep = Math.max(0, pending.length - 8);
        pending = pending.subarray(keep);
        searchFrom = 0;
        return undefined;
      }
      cur = found;
    }
    const nextBlock = findMagicBit(pending, cur + 48 + 32, BLOCK_PATTERNS);
    const nextEos = findMagicBit(pending, cur + 48 + 32, EOS_PATTERNS);
    const next = nextBlock < 0 ? nextEos : nextEos < 0 ? nextBlock : Math.min(nextBlock, nextEos);
    if (next < 0) return undefined;
    const block = { stream: wrapBlock(pending, cur, next), terminated: true };
    if (next === nextEos) {
      cur = -1;
      searchFrom = next + 48 + 32;
    } else cur = next;
    const drop = (cur >= 0 ? cur : searchFrom) >> 3;
    pending = pending.subarray(drop);
    if (cur >= 0) cur -= drop * 8;
    else searchFrom -= drop * 8;
    return block;
  };
  for await (const part of bytes) {
    onRead(part.length);
    pending = pending.length ? Buffer.concat([pending, part]) : part;
    for (let b = advance(); b; b = advance()) yield b;
  }
  if (cur >= 0 && pending.length * 8 > cur + 80) yield { stream: wrapBlock(pending, cur, pending.length * 8), terminated: false };
}

const GROUP_BYTES = 4 << 20;
// Generous bound on decoder read-ahead (pipe + lbzip2 input queue + one block) when locating damage.
const LOOKBACK_BYTES = 16 << 20;

/**
 * Block-mode bz2 decoding from `from`: blocks are re-wrapped as standalone streams and decoded in groups;
 * a failing group is retried block by block so only the damaged block is lost.
 */
async function* decodeBlocks(
  cmd: Bz2Decoder,
  bytes: AsyncIterable<Buffer>,
  onRead: (n: number) => void,
  report: { corrupt: number; truncated: boolean },
): AsyncGenerator<Buffer | XmlChunk> {
  let group: ScannedBlock[] = [];
  let groupBytes = 0;
  async function* flush(): AsyncGenerator<Buffer | XmlChunk> {
    if (group.length === 0) return;
    const blocks = group;
    group = [];
    groupBytes = 0;
    const whole = await decodeAll(cmd, Buffer.concat(blocks.map((b) => b.stream))).catch(() => undefined);
    if (whole) {
      yield whole;
      return;
    }
    for (const b of blocks) {
      const out = await decodeAll(cmd, b.stream).catch(() => undefined);
      if (out) yield out;
      else if (!b.terminated) report.truncated = true;
      else {
        report.corrupt += 1;
        yield { break: true, reason: 'dump_corrupt_block' };
      }
    }
  }
  for await (const block of scanBlocks(bytes, onRead)) {
    if (!block.terminated) report.truncated = true;
    group.push(block);
    groupBytes += block.stream.length;
    if (groupBytes >= GROUP_BYTES) yield* flush();
  }
  yield* flush();
}

/** Streaming UTF-8 decoder: holds back a split sequence, replaces invalid bytes with `INVALID_UTF8_MARK`. */
export class Utf8Decoder {
  private carry: Buffer | undefined;

  /** Decodes the next bytes. */
  push(bytes: Buffer): string {
    const buf = this.carry ? Buffer.concat([this.carry, bytes]) : bytes;
    this.carry = undefined;
    const cut = incompleteTail(buf);
    if (cut < buf.length) this.carry = Buffer.from(buf.subarray(cut));
    const body = cut < buf.length ? buf.subarray(0, cut) : buf;
    return isUtf8(body) ? body.toString('utf8') : decodeMarking(body);
  }

  /** Ends the input: a held-back partial sequence is invalid. */
  flush(): string {
    const rest = this.carry;
    this.carry = undefined;
    return rest ? decodeMarking(rest) : '';
  }

  /** Drops a held-back partial sequence (input is discontinuous after a break). */
  reset(): void {
    this.carry = undefined;
  }
}

/** Index where a trailing, possibly incomplete multi-byte sequence starts (buf.length when none). */
function incompleteTail(buf: Buffer): number {
  for (let i = buf.length - 1; i >= Math.max(0, buf.length - 3); i--) {
    const b = buf[i];
    if ((b & 0xc0) === 0x80) continue;
    if (b >= 0xc0) {
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return buf.length - i < need ? i : buf.length;
    }
    return buf.length;
  }
  return buf.length;
}

/** Length of the valid UTF-8 sequence at i, or 0 when the byte there starts no valid sequence. */
function validLength(buf: Buffer, i: number): number {
  const b = buf[i];
  if (b < 0x80) return 1;
  const c = (k: number, lo = 0x80, hi = 0xbf) => i + k < buf.length && buf[i + k] >= lo && buf[i + k] <= hi;
  if (b >= 0xc2 && b <= 0xdf) return c(1) ? 2 : 0;
  if (b >= 0xe0 && b <= 0xef) {
    const lo = b === 0xe0 ? 0xa0 : 0x80;
    const hi = b === 0xed ? 0x9f : 0xbf;
    return c(1, lo, hi) && c(2) ? 3 : 0;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    const lo = b === 0xf0 ? 0x90 : 0x80;
    const hi = b === 0xf4 ? 0x8f : 0xbf;
    return c(1, lo, hi) && c(2) && c(3) ? 4 : 0;
  }
  return 0;
}

function decodeMarking(buf: Buffer): string {
  let out = '';
  let runStart = 0;
  let i = 0;
  while (i < buf.length) {
    const n = validLength(buf, i);
    if (n > 0) {
      i += n;
      continue;
    }
    out += buf.toString('utf8', runStart, i) + INVALID_UTF8_MARK;
    i += 1;
    runStart = i;
  }
  return out + buf.toString('utf8', runStart, buf.length);
}

/** Opens a dump (or a byte range of it), detecting the format; fails fast on a missing input or unknown format. */
export async function openDump(input: DumpInput, opts: OpenDumpOptions = {}): Promise<DumpStream> {
  const src = await sourceFor(input);
  const start = opts.start ?? 0;
  const end = opts.end ?? src.size;
  const head = await readHead(src, start, end, 6);
  if (head.length === 0) throw new DumpFormatError(`empty dump: ${src.description}`);
  const format = opts.plainText ? detectTextFormat(head, src.description) : detectFormat(head, src.description);
  const cmd = format === 'bz2' ? bz2DecoderAvailable(opts.bz2Decoder) : undefined;
  if (format === 'xz' && !onPath('xz')) throw new Bz2DecoderMissingError(`xz input needs the xz tool: apt-get install -y xz-utils`);
  let bytesRead = 0;
  const totalBytes = end === undefined ? undefined : end - start;
  const onRead = (n: number) => {
    bytesRead += n;
  };
  let used = false;

  async function* bytesOut(): AsyncGenerator<Buffer | XmlChunk> {
    if (format === 'xml') {
      for await (const part of src.read(start, end)) {
        onRead(part.length);
        yield part;
      }
      return;
    }
    if (format === 'gzip' || format === 'xz') {
      yield* streamDecoder(format, src.read(start, end), onRead);
      return;
    }
    let fed = 0;
    try {
      for await (const part of runDecoder(cmd!, bz2Args(cmd!, opts.threads), src.read(start, end), (n) => {
        fed += n;
        onRead(n);
      })) {
        yield part;
      }
      return;
    } catch (e) {
      if (!(e instanceof DecoderFailure)) throw e;
    }
    // Damage somewhere before `fed`: re-read from a point safely before it in block mode; pages already
    // yielded are skipped downstream by page id, the page in progress is settled there too.
    yield { break: true, rewind: true };
    const from = Math.max(start, fed - LOOKBACK_BYTES);
    bytesRead = from - start;
    const report = { corrupt: 0, truncated: false };
    yield* decodeBlocks(cmd!, src.read(from, end), onRead, report);
    if (report.corrupt === 0 && !report.truncated) yield { break: true, reason: 'dump_corrupt_block' };
  }

  async function* chunks(): AsyncGenerator<XmlChunk> {
    if (used) throw new Error('DumpStream.chunks() can be iterated once');
    used = true;
    const utf8 = new Utf8Decoder();
    for await (const part of bytesOut()) {
      if (Buffer.isBuffer(part)) {
        const text = utf8.push(part);
        if (text) yield text;
      } else if (typeof part === 'string') yield part;
      else {
        utf8.reset();
        yield part;
      }
    }
    const rest = utf8.flush();
    if (rest) yield rest;
  }

  return {
    format,
    description: src.description,
    partial: src.size !== undefined && end !== undefined && end < src.size,
    chunks,
    progress: () => ({ bytesRead, totalBytes }),
  };
}

/** gzip (zlib) or xz (child process); a decoder error ends the input: truncation is left to the XML parser. */
async function* streamDecoder(format: 'gzip' | 'xz', bytes: AsyncIterable<Buffer>, onRead: (n: number) => void): AsyncGenerator<Buffer | XmlChunk> {
  try {
    if (format === 'xz') {
      yield* runDecoder('xz', ['-dc'], bytes, onRead);
      return;
    }
    const gunzip = createGunzip();
    const feeding = (async () => {
      try {
        for await (const part of bytes) {
          onRead(part.length);
          if (!gunzip.write(part)) await once(gunzip, 'drain');
        }
        gunzip.end();
      } catch (e) {
        gunzip.destroy(e as Error);
      }
    })();
    for await (const part of gunzip) yield part as Buffer;
    await feeding;
  } catch (e) {
    const message = (e as Error).message ?? '';
    if (/unexpected end/i.test(message)) return;
    yield { break: true, reason: 'dump_corrupt_block' };
  }
}

/** One item of `readPages` / `readSelectedPages`. */
export type PageEvent = { kind: 'page'; page: RawPage } | { kind: 'drop'; reason: string; pageId?: number };

/** Reading progress for heartbeats and the progress bar. */
export interface ReadProgress extends ByteProgress {
  /** Highest page id yielded or dropped so far (the resume cursor). */
  lastPageId?: number;
  /** Items (pages and drops) yielded so far in this attempt. */
  items: number;
}

/** Options of `readPages`. */
export interface ReadPagesOptions extends OpenDumpOptions {
  /** Skip pages with an id ≤ this (pages come in ascending id order in dumps): the heartbeated cursor. */
  resumeAfterPageId?: number;
  /** Called after every item; callers throttle (heartbeats, progress bar). */
  onProgress?: (p: ReadProgress) => void;
}

/**
 * Every page of a dump (or byte range) as `page` events, and every unreadable stretch as a `drop`
 * (wiki_parse_error, dump_truncated, dump_corrupt_block). Items up to the resume cursor are skipped, as
 * are items re-read when damage recovery rewinds; a page cut by a decoder break is reported once, unless
 * recovery re-reads it whole. The cursor is positional: skipping ends after the item with the cursor id,
 * or at the first larger id while ids have been ascending (MediaWiki dumps are in page-id order).
 */
export async function* readPages(input: DumpInput, opts: ReadPagesOptions = {}): AsyncGenerator<PageEvent> {
  const dump = await openDump(input, opts);
  let skipTo = opts.resumeAfterPageId;
  let lastId: number | undefined;
  let ascending = true;
  let pendingCut: number | undefined;
  let items = 0;
  const progress = () => opts.onProgress?.({ ...dump.progress(), lastPageId: lastId ?? opts.resumeAfterPageId, items });
  const skipping = (id: number | undefined): boolean => {
    if (skipTo === undefined) return false;
    if (id === undefined) return true;
    if (id === skipTo) {
      skipTo = undefined;
      return true;
    }
    if (ascending && id > skipTo) {
      skipTo = undefined;
      return false;
    }
    return true;
  };
  async function* tap(chunks: AsyncIterable<XmlChunk>): AsyncGenerator<XmlChunk> {
    for await (const c of chunks) {
      // The decoder will re-read from an earlier point: skip what was already yielded.
      if (typeof c !== 'string' && c.rewind && lastId !== undefined) skipTo = lastId;
      yield c;
    }
  }
  const emitCut = (id: number): PageEvent => {
    items++;
    return { kind: 'drop', reason: 'wiki_parse_error', pageId: id };
  };

  for await (const item of parsePages(tap(dump.chunks()), { partial: dump.partial })) {
    const id = item.pageId;
    if (isPageError(item) && item.cut && id !== undefined) {
      if (skipTo !== undefined && (id === skipTo || !(ascending && id > skipTo))) continue;
      if (pendingCut !== undefined && pendingCut !== id) yield emitCut(pendingCut);
      pendingCut = id;
      continue;
    }
    if (skipping(id)) continue;
    if (id !== undefined) {
      if (pendingCut !== undefined && pendingCut !== id) yield emitCut(pendingCut);
      pendingCut = undefined;
      if (lastId !== undefined && id <= lastId) ascending = false;
      lastId = id;
    }
    items++;
    yield isPageError(item)
      ? id === undefined
        ? { kind: 'drop', reason: item.error }
        : { kind: 'drop', reason: item.error, pageId: id }
      : { kind: 'page', page: item };
    progress();
  }
  if (pendingCut !== undefined) yield emitCut(pendingCut);
  progress();
}

/** Options of `readSelectedPages`. */
export interface ReadSelectedOptions extends ReadPagesOptions, Partial<Omit<PageSelectionOptions, 'lang'>> {
  lang: string;
}

/**
 * The streaming (no index) entry point: `readPages` followed by `selectPage`, so every page read ends as
 * either a kept `page` or a `drop` with its reason (the funnel's first rows). Resumable from a page id.
 */
export async function* readSelectedPages(input: DumpInput, opts: ReadSelectedOptions): AsyncGenerator<PageEvent> {
  for await (const ev of readPages(input, opts)) {
    if (ev.kind === 'drop') {
      yield ev;
      continue;
    }
    const verdict = selectPage(ev.page, opts);
    yield verdict.keep ? ev : { kind: 'drop', reason: verdict.reason, pageId: ev.page.pageId };
  }
}

/** Distinct stream offsets of a multistream index (`.txt` or `.txt.bz2`), ascending; constant memory per line. */
export async function readStreamOffsets(index: DumpInput): Promise<number[]> {
  const dump = await openDump(index, { plainText: true });
  const offsets = new Set<number>();
  let carry = '';
  for await (const chunk of dump.chunks()) {
    if (typeof chunk !== 'string') continue;
    const lines = (carry + chunk).split('\n');
    carry = lines.pop() ?? '';
    for (const line of lines) {
      const e = parseIndexLine(line);
      if (e) offsets.add(e.offset);
    }
  }
  const last = parseIndexLine(carry);
  if (last) offsets.add(last.offset);
  return [...offsets].sort((a, b) => a - b);
}

/** Size in bytes of a dump input, when it can be known (for ranges and ETA). */
export async function dumpSize(input: DumpInput): Promise<number | undefined> {
  return (await sourceFor(input)).size;
}
