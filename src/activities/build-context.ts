/**
 * Per-worker state shared by the stage activities: the build's resolved config, prompt packs, the
 * fastText model and segment shards are read once and reused across activities (payloads carry keys only).
 */
import type { Config } from '../config';
import type { Segment } from '../core/records';
import { loadLangId, type LangId } from '../core/text/lang-id';
import type { Gateway } from '../llm/gateway';
import { buildConfigKey } from '../names';
import { getJson, parseJsonl } from '../storage/json';
import type { Storage } from '../storage/storage';
import { MissingInputError } from '../core/errors';

/** Items of a stage (segments, source conversations…) stored as JSONL shards, listed in order. */
export interface ShardManifest {
  shards: Array<{ key: string; count: number }>;
  total: number;
}

export interface BuildContext {
  storage: Storage;
  gateway: Gateway;
  /** The config the build was started with (saved beside its outputs). */
  configOf(buildId: string): Promise<Config>;
  langId(): Promise<LangId>;
  /** Segment number `index` (0-based over all shards in manifest order). */
  segment(manifestKey: string, index: number): Promise<Segment>;
  /** Item number `index` of any shard manifest. */
  item<T>(manifestKey: string, index: number): Promise<T>;
  /** A JSON document read once per worker (manifests, packs are immutable once written). */
  cachedJson<T>(key: string): Promise<T>;
}

/** Small LRU so a worker keeps the shards it is working through, not all of them. */
class Lru<V> {
  private map = new Map<string, V>();
  constructor(private readonly capacity: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, value: V): void {
    this.map.set(key, value);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as string);
  }
}

/** Creates the shared context over a storage and a gateway. */
export function createBuildContext(storage: Storage, gateway: Gateway): BuildContext {
  const json = new Lru<Promise<unknown>>(256);
  const shards = new Lru<Promise<unknown[]>>(8);
  let langId: Promise<LangId> | undefined;

  async function cachedJson<T>(key: string): Promise<T> {
    let hit = json.get(key) as Promise<T> | undefined;
    if (!hit) {
      hit = getJson<T>(storage, key).then((v) => {
        if (v === undefined) throw new MissingInputError(`${key} is missing from ${storage.location}`);
        return v;
      });
      hit.catch(() => undefined);
      json.set(key, hit);
    }
    return hit;
  }

  function shard(key: string): Promise<unknown[]> {
    let hit = shards.get(key);
    if (!hit) {
      hit = storage.getText(key).then((text) => {
        if (text === undefined) throw new MissingInputError(`shard ${key} is missing from ${storage.location}`);
        return parseJsonl(text);
      });
      hit.catch(() => undefined);
      shards.set(key, hit);
    }
    return hit;
  }

  async function item<T>(manifestKey: string, index: number): Promise<T> {
    const manifest = await cachedJson<ShardManifest>(manifestKey);
    let offset = index;
    for (const s of manifest.shards) {
      if (offset < s.count) return (await shard(s.key))[offset] as T;
      offset -= s.count;
    }
    throw new MissingInputError(`item ${index} is out of range (${manifest.total} items in ${manifestKey})`);
  }

  return {
    storage,
    gateway,
    configOf: (buildId) => cachedJson<Config>(buildConfigKey(buildId)),
    langId: () => (langId ??= loadLangId()),
    cachedJson,
    segment: (manifestKey, index) => item<Segment>(manifestKey, index),
    item,
  };
}
