/**
 * Random ports and loopback addresses for tests that run in parallel. A port is only a
 * candidate: whoever binds it retries with another one on EADDRINUSE.
 */
import { randomInt } from 'node:crypto';

export function randomPort(): number {
  return randomInt(20_000, 60_000);
}

/** A loopback address 127.0.0.x, x in [2, 250]: every test file picks its own. */
export function randomLoopback(): string {
  return `127.0.0.${randomInt(2, 251)}`;
}
