import { describe, expect, it } from 'vitest';
import { dtmfCall, dtmfPackets, readPcapUdpPayloads, toPcap } from '../../scripts/prompts/dtmf-pcap.ts';
import type { TimedPacket } from '../../scripts/prompts/dtmf-pcap.ts';
import { decodeRtp } from '../../src/media/embedded/rtp-packet.ts';
import { TelephoneEventReceiver } from '../../src/media/embedded/telephone-event.ts';

/** What one call's receiver (the embedded endpoint's) makes of pcaps played one after the other. */
function keysHeard(pcaps: readonly TimedPacket[][]): string {
  const rx = new TelephoneEventReceiver();
  let got = '';
  for (const pcap of pcaps) {
    for (const udp of readPcapUdpPayloads(toPcap(pcap))) {
      const rtp = decodeRtp(udp);
      if (rtp === undefined) continue;
      const k = rx.receive(rtp.ssrc, rtp.timestamp, rtp.payload);
      if (k !== undefined) got += k.digit;
    }
  }
  return got;
}

const header = (p: TimedPacket) => decodeRtp(p.rtp)!;

describe('scripts/prompts/dtmf-pcap.ts', () => {
  it('two pcaps made separately (no options) do not share their RTP start values: a receiver keeps the keys of both', () => {
    const a = dtmfPackets('12');
    const b = dtmfPackets('12');
    const [ha, hb] = [header(a[0]!), header(b[0]!)];
    expect([ha.ssrc, ha.sequence, ha.timestamp]).not.toEqual([hb.ssrc, hb.sequence, hb.timestamp]);
    expect(keysHeard([a, b])).toBe('1212');
  });

  it('takes the start sequence number, timestamp and SSRC', () => {
    const p = dtmfPackets('5', { sequence: 40000, timestamp: 123456, ssrc: 0xdeadbeef });
    const h = header(p[0]!);
    expect(h).toMatchObject({ sequence: 40000, timestamp: 123456, ssrc: 0xdeadbeef, marker: true });
    expect(header(p.at(-1)!).sequence).toBe(40000 + 5); // 5 updates, then the end packet (sent three times)
  });

  it('the pcaps of one call continue one RTP stream: sequence and timestamp go on, the SSRC stays; every key is heard', () => {
    const [first, second, third] = dtmfCall(['123456#', '44', '1'], { sequence: 65530, timestamp: 4_294_960_000, ssrc: 7 });
    const last = header(first!.at(-1)!);
    const next = header(second![0]!);
    expect(next.ssrc).toBe(7);
    expect(next.sequence).toBe((last.sequence + 1) % 65536); // wraps like RTP
    expect(next.timestamp).not.toBe(last.timestamp);
    expect(keysHeard([first!, second!, third!])).toBe('123456#441');
  });

  it('the same keys twice in one call are two presses, not a duplicate', () => {
    expect(keysHeard(dtmfCall(['1', '1']))).toBe('11');
  });
});
