import { describe, expect, it } from 'vitest';
import { isDependencyUnavailable } from '../../src/sip/dependency-failure.ts';

describe('dependency failures (503 with Retry-After) told apart from bugs (500)', () => {
  const named = (name: string, message = 'x'): Error => Object.assign(new Error(message), { name });
  const coded = (code: string): Error => Object.assign(new Error(`connect ${code} 127.0.0.1:6379`), { code });
  it.each([
    [named('MaxRetriesPerRequestError', 'Reached the max retries per request limit'), true],
    [new Error('Connection is closed.'), true],
    [new Error("Stream isn't writeable and enableOfflineQueue options is false"), true],
    [coded('ECONNREFUSED'), true],
    [coded('ETIMEDOUT'), true],
    [new Error('Connection terminated unexpectedly'), true],
    [new Error('timeout exceeded when trying to connect'), true],
    // a Redis Cluster failing over: the primary gone, its replica not promoted yet
    [new Error('Too many Cluster redirections. Last error: Error: Connection is closed.'), true],
    [named('ReplyError', 'CLUSTERDOWN The cluster is down'), true],
    [named('ReplyError', 'TRYAGAIN Multiple keys request during rehashing of slot'), true],
    [named('ClusterAllFailedError', 'Failed to refresh slots cache.'), true],
    [named('ReplyError', "CROSSSLOT Keys in request don't hash to the same slot"), false],
    [new TypeError("Cannot read properties of undefined (reading 'id')"), false],
    [new RangeError('amount must be an integer'), false],
    ['a string', false],
    [undefined, false],
  ])('%o → %s', (err, unavailable) => {
    expect(isDependencyUnavailable(err)).toBe(unavailable);
  });
});
