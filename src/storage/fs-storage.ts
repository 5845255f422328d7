/** Local-filesystem Storage: the embedded default, under the state dir. */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { type FileHandle, link, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { assertValidKey, assertValidPrefix, checkRange, sortKeys, StorageNotFoundError, TEMP_MARK } from './keys';
import type { Storage } from './storage';

/**
 * Storage over a directory. Writes go to a temp file in the target's directory, are fsynced, then renamed
 * (put) or hard-linked (putIfAbsent), so readers never see a partial object. A key cannot be both an
 * object and a directory (`a` and `a/b`), unlike S3.
 */
export function createFsStorage(root: string): Storage {
  const base = path.resolve(root);
  const location = pathToFileURL(base).href;

  function fullPath(key: string): string {
    assertValidKey(key);
    return path.join(base, ...key.split('/'));
  }

  /** Writes `write`'s output to a fresh fsynced temp file beside `file` and returns the temp path. */
  async function writeTemp(file: string, write: (tmp: string) => Promise<void>): Promise<string> {
    const dir = path.dirname(file);
    await mkdir(dir, { recursive: true });
    const tmp = path.join(dir, `.${path.basename(file)}${TEMP_MARK}${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      await write(tmp);
      return tmp;
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  async function writeBufferTo(tmp: string, body: Buffer | string): Promise<void> {
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** fsync the directory so the rename/link itself survives a crash. */
  async function syncDir(dir: string): Promise<void> {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async function commit(tmp: string, file: string): Promise<void> {
    try {
      await rename(tmp, file);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    await syncDir(path.dirname(file));
  }

  async function statFile(key: string): Promise<number | undefined> {
    try {
      const info = await stat(fullPath(key));
      return info.isFile() ? info.size : undefined;
    } catch (err) {
      if (isAbsent(err)) return undefined;
      throw err;
    }
  }

  /** Opens an object for reading; a missing key (or a directory) is StorageNotFoundError. */
  async function openObject(key: string): Promise<FileHandle> {
    let handle: FileHandle;
    try {
      handle = await open(fullPath(key), 'r');
    } catch (err) {
      if (isAbsent(err)) throw new StorageNotFoundError(`no object ${key} in ${location}`);
      throw err;
    }
    if (!(await handle.stat()).isFile()) {
      await handle.close();
      throw new StorageNotFoundError(`no object ${key} in ${location}`);
    }
    return handle;
  }

  async function walk(dir: string, rel: string, out: string[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (isAbsent(err)) return;
      throw err;
    }
    for (const entry of entries) {
      if (entry.name.includes(TEMP_MARK)) continue;
      const key = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) await walk(path.join(dir, entry.name), key, out);
      else if (entry.isFile()) out.push(key);
    }
  }

  const storage: Storage = {
    location,

    async get(key) {
      try {
        return await readFile(fullPath(key));
      } catch (err) {
        if (isAbsent(err)) return undefined;
        throw err;
      }
    },

    async getText(key) {
      const buf = await storage.get(key);
      return buf?.toString('utf8');
    },

    async getRange(key, start, end) {
      checkRange(start, end);
      const handle = await openObject(key);
      try {
        const size = (await handle.stat()).size;
        const stop = Math.min(end, size);
        if (start >= stop) return Buffer.alloc(0);
        const buf = Buffer.alloc(stop - start);
        let filled = 0;
        while (filled < buf.length) {
          const { bytesRead } = await handle.read(buf, filled, buf.length - filled, start + filled);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        return filled === buf.length ? buf : buf.subarray(0, filled);
      } finally {
        await handle.close();
      }
    },

    size: statFile,

    async put(key, body) {
      const file = fullPath(key);
      const tmp = await writeTemp(file, (t) => writeBufferTo(t, body));
      await commit(tmp, file);
    },

    async putStream(key, body: Readable) {
      const file = fullPath(key);
      // The body may fail before pipeline() attaches (during mkdir); pipeline still sees `errored` and rejects.
      body.on('error', () => undefined);
      // flush: fsync before close, so the rename never publishes unwritten blocks.
      const tmp = await writeTemp(file, (t) => pipeline(body, createWriteStream(t, { flags: 'wx', flush: true })));
      await commit(tmp, file);
    },

    async putIfAbsent(key, body) {
      const file = fullPath(key);
      if ((await statFile(key)) !== undefined) return false;
      const tmp = await writeTemp(file, (t) => writeBufferTo(t, body));
      try {
        // link(2) fails with EEXIST if the name exists: atomic create-if-absent across processes.
        await link(tmp, file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw err;
      } finally {
        await unlink(tmp).catch(() => undefined);
      }
      await syncDir(path.dirname(file));
      return true;
    },

    async exists(key) {
      return (await statFile(key)) !== undefined;
    },

    async list(prefix) {
      assertValidPrefix(prefix);
      const slash = prefix.lastIndexOf('/');
      const dirRel = slash < 0 ? '' : prefix.slice(0, slash);
      const keys: string[] = [];
      await walk(dirRel === '' ? base : path.join(base, ...dirRel.split('/')), dirRel, keys);
      return sortKeys(keys.filter((k) => k.startsWith(prefix)));
    },

    async readStream(key) {
      const handle = await openObject(key);
      return handle.createReadStream();
    },

    async delete(key) {
      try {
        await unlink(fullPath(key));
      } catch (err) {
        if (!isAbsent(err)) throw err;
      }
    },
  };
  return storage;
}

/** A missing file, or a path component that is a file or directory where the other was expected. */
function isAbsent(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}
