/** A storage decorator for fault tests: the first `failures` writes whose key matches fail with an Error. */
import type { Storage } from '../../src/storage/storage';

/** What to break and a counter of the failures injected so far. */
export interface FaultyStorage extends Storage {
  /** Writes failed so far, with their keys. */
  readonly failed: string[];
}

/** Wraps `inner`: `put`/`putIfAbsent`/`putStream` on keys matching `match` throw for the first `failures` calls. */
export function faultyStorage(inner: Storage, match: RegExp, failures: number): FaultyStorage {
  const failed: string[] = [];
  const maybeFail = (key: string) => {
    if (failed.length < failures && match.test(key)) {
      failed.push(key);
      throw new Error(`injected storage write failure on ${key}`);
    }
  };
  return {
    failed,
    get location() {
      return inner.location;
    },
    get: (key) => inner.get(key),
    getText: (key) => inner.getText(key),
    getRange: (key, start, end) => inner.getRange(key, start, end),
    size: (key) => inner.size(key),
    exists: (key) => inner.exists(key),
    list: (prefix) => inner.list(prefix),
    readStream: (key) => inner.readStream(key),
    delete: (key) => inner.delete(key),
    async put(key, body) {
      maybeFail(key);
      return inner.put(key, body);
    },
    async putStream(key, body) {
      maybeFail(key);
      return inner.putStream(key, body);
    },
    async putIfAbsent(key, body) {
      maybeFail(key);
      return inner.putIfAbsent(key, body);
    },
  };
}
