/**
 * Random ports and loopback addresses for tests that run in parallel. A port is only a
 * candidate: whoever binds it retries with another one on EADDRINUSE.
 */
import { randomInt } from 'node:crypto';

/**
 * Below Linux's ephemeral range (32768-60999): a socket bound to an ephemeral port on 0.0.0.0 by
 * any process would otherwise collide with a test's chosen port on its loopback address.
 */
export function randomPort(): number {
  return randomInt(20_000, 32_000);
}

/**
 * sipp's error file, without its notes about RTP sockets it could not bind: the scenarios here
 * carry no media, so a busy port for sipp's RTP echo is not an error of the call under test.
 */
export function sippErrors(text: string): string {
  // not protocol errors: sipp's own media sockets, and sipp's scheduler running late on a loaded
  // host (the minor watchdog; the major one still fails the run)
  const kept = text.split('\n').filter((l) => !/Unable to bind (audio|video) RTP socket|Overload warning: the minor watchdog timer/.test(l));
  return kept.some((l) => l.trim() !== '' && !l.startsWith('The following events occurred')) ? kept.join('\n') : '';
}

/** A loopback address 127.0.0.x, x in [2, 250]: every test file picks its own. */
export function randomLoopback(): string {
  return `127.0.0.${randomInt(2, 251)}`;
}
