import { describe, expect, it } from 'vitest';
import { RefreshingCache } from '../../src/common/refreshing-cache.ts';
import { AppError } from '../../src/errors.ts';

function source() {
  const s = {
    loads: 0,
    down: false,
    missing: new Set<string>(),
    version: 1,
    load: async (key: string): Promise<string> => {
      s.loads++;
      const version = s.version; // what the source held when the read started
      await Promise.resolve();
      if (s.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      if (s.missing.has(key)) throw new AppError('UNKNOWN_TARIFF');
      return `${key}@${version}`;
    },
  };
  return s;
}

describe('refreshing cache', () => {
  it('serves a value until its time is up, then reloads; concurrent reads share one load', async () => {
    let now = 0;
    const src = source();
    const cache = new RefreshingCache(src.load, { ttlMs: 1000, now: () => now });
    expect(await Promise.all([cache.get('a'), cache.get('a'), cache.get('a')])).toEqual(['a@1', 'a@1', 'a@1']);
    expect(src.loads).toBe(1);
    src.version = 2;
    now = 999;
    expect(await cache.get('a')).toBe('a@1');
    now = 1000;
    expect(await cache.get('a')).toBe('a@2');
    expect(src.loads).toBe(2);
  });

  it('keeps answering with the last good value while the source is unreachable, and catches up after', async () => {
    let now = 0;
    const src = source();
    const cache = new RefreshingCache(src.load, { ttlMs: 10, now: () => now });
    await cache.get('a');
    src.down = true;
    now = 100;
    expect(await cache.get('a')).toBe('a@1');
    await expect(cache.get('never-loaded')).rejects.toThrow(/ECONNREFUSED/);
    src.down = false;
    src.version = 3;
    expect(await cache.get('a')).toBe('a@3');
  });

  it('passes on an answer of the source (AppError) instead of serving the stale value', async () => {
    let now = 0;
    const src = source();
    const cache = new RefreshingCache(src.load, { ttlMs: 10, now: () => now });
    await cache.get('t');
    src.missing.add('t');
    now = 100;
    await expect(cache.get('t')).rejects.toBeInstanceOf(AppError);
  });

  it('a delete while a load is in flight: the old load does not refill the entry', async () => {
    const src = source();
    const cache = new RefreshingCache(src.load, { ttlMs: 60_000 });
    const first = cache.get('a');
    cache.delete('a');
    src.version = 2;
    expect(await first).toBe('a@1');
    expect(await cache.get('a')).toBe('a@2');
  });

  it('holds at most maxEntries keys, dropping the oldest', async () => {
    const src = source();
    const cache = new RefreshingCache(src.load, { ttlMs: 60_000, maxEntries: 2 });
    await cache.get('a');
    await cache.get('b');
    await cache.get('c');
    expect(src.loads).toBe(3);
    await cache.get('c');
    await cache.get('b');
    expect(src.loads).toBe(3);
    await cache.get('a');
    expect(src.loads).toBe(4);
  });

  it('with a TTL of 0 every read asks the source, and the last answer serves only while it is unreachable', async () => {
    const src = source();
    const cache = new RefreshingCache(src.load, { ttlMs: 0 });
    expect(await cache.get('a')).toBe('a@1');
    src.version = 2;
    expect(await cache.get('a')).toBe('a@2');
    expect(src.loads).toBe(2);
    src.down = true;
    expect(await cache.get('a')).toBe('a@2');
  });
});
