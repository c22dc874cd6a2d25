// The one Redis connection factory every process uses: a named connection to the real Redis, a
// refusal that fails (not hangs) and never shows a password, a command that gives up.
import { describe, expect, it } from 'vitest';
import { connectRedis, createRedis } from '../../src/common/redis-connection.ts';
import { TEST_REDIS_URL } from '../support/services.ts';

describe('Redis connection factory', () => {
  it('opens a named connection at once', async () => {
    const r = await connectRedis(TEST_REDIS_URL, 'softswitch-test-factory');
    try {
      expect(r.status).toBe('ready');
      expect(await r.client('GETNAME')).toBe('softswitch-test-factory');
    } finally {
      r.disconnect();
    }
  });

  it('fails to start when nothing listens, naming the host and not the password', async () => {
    const err = await connectRedis('redis://:s3cret-pw@127.0.0.1:1', 'softswitch-test-refused').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).not.toContain('s3cret-pw');
  });

  it('a lazy connection fails a command after its retries instead of hanging', async () => {
    const r = createRedis('redis://127.0.0.1:1', 'softswitch-test-lazy');
    r.on('error', () => {
      /* expected: nothing listens */
    });
    try {
      await expect(r.ping()).rejects.toThrow(/max retries/i);
    } finally {
      r.disconnect();
    }
  });
});
