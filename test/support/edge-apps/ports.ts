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
 * sipp's error file, without what is not an error of the call under test: notes about RTP sockets
 * sipp could not bind (the scenarios here carry no media), sipp's scheduler running late on a
 * loaded host (the minor watchdog; the major one still fails the run), and the 200 OK to a
 * retransmitted BYE that arrives after the call already ended successfully (the first 200 was
 * slow, sipp sent the BYE again, and each copy is answered: RFC 3261 §17.2.2).
 */
export function sippErrors(text: string): string {
  // one entry per event: a line starting with sipp's timestamp, then the message it quotes
  const entries: string[] = [];
  for (const line of text.split('\n')) {
    if (/^\d{4}-\d{2}-\d{2}\t/.test(line) || entries.length === 0) entries.push(line);
    else entries[entries.length - 1] += `\n${line}`;
  }
  const benign = (e: string) =>
    /Unable to bind (audio|video) RTP socket|Overload warning: the minor watchdog timer/.test(e) ||
    (/Dead call \S+ \(successful\), received 'SIP\/2\.0 200 /.test(e) && /^CSeq:\s*\d+\s+BYE\s*$/im.test(e));
  const kept = entries.filter((e) => !benign(e));
  return kept.some((e) => e.trim() !== '' && !e.startsWith('The following events occurred')) ? kept.join('\n') : '';
}

/** A loopback address 127.0.0.x, x in [2, 250]: every test file picks its own. */
export function randomLoopback(): string {
  return `127.0.0.${randomInt(2, 251)}`;
}
