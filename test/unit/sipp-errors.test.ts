import { expect, it } from 'vitest';
import { sippErrors } from '../support/edge-apps/ports.ts';
const dead = (cseq: string) =>
  `2026-12-07\t06:46:09.303509\t1796625969.303509: Dead call 4-1342@127.0.0.223 (successful), received 'SIP/2.0 200 OK\nVia: SIP/2.0/UDP 127.0.0.223:27526;branch=z9hG4bK-1342-4-11;rport=27526\nCall-ID: 4-1342@127.0.0.223\nCSeq: ${cseq}\nContent-Length: 0\n\n'.`;
it('sipp runs are judged by real errors: late 200s to retransmitted BYEs of successful calls and watchdog notes are not; a 200 to an INVITE after the call, or an unexpected message, are', () => {
  expect(sippErrors(`The following events occurred:\n${dead('3 BYE')}\n${dead('3 BYE')}`)).toBe('');
  expect(sippErrors(`The following events occurred:\n${dead('1 INVITE')}`)).not.toBe('');
  expect(
    sippErrors(
      `The following events occurred:\n2026-12-07\t06:46:09.303509\t1796625969.303509: Aborting call on unexpected message for Call-Id '1-2@x': while expecting '200' (index 5), received 'SIP/2.0 500 Server Error\nCSeq: 1 INVITE\n'.`,
    ),
  ).not.toBe('');
  expect(sippErrors('')).toBe('');
});
