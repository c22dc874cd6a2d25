import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALAW_TO_LINEAR, ALAW_TO_ULAW, encodeAlaw, encodeUlaw, ULAW_TO_ALAW, ULAW_TO_LINEAR } from '../../src/media/embedded/g711.ts';
import { decodeRtp, encodeRtp } from '../../src/media/embedded/rtp-packet.ts';
import { buildAnswer, buildOffer, negotiate, parseSdp, SdpError } from '../../src/media/embedded/sdp.ts';
import { decodeTelephoneEvent, encodeTelephoneEvent, TelephoneEventReceiver } from '../../src/media/embedded/telephone-event.ts';
import { buildWav, parseWav, toG711, WavFormatError } from '../../src/media/embedded/wav.ts';
import { parseDtmfInfo } from '../../src/media/dtmf-info.ts';
import { readPcapUdpPayloads, dtmfPackets, toPcap } from '../../scripts/prompts/dtmf-pcap.ts';

const SOUNDS = path.resolve(import.meta.dirname, '../../freeswitch/sounds');

describe('WAV reading', () => {
  it('reads a sox mu-law prompt with an 18-byte fmt chunk and a fact chunk', () => {
    const file = readFileSync(path.join(SOUNDS, 'en/prepaid/and.wav'));
    const wav = parseWav(file);
    expect(wav).toMatchObject({ encoding: 'pcmu', sampleRate: 8000, channels: 1 });
    expect(wav.data.length).toBe(file.readUInt32LE(file.indexOf('data') + 4));
  });

  it('walks unknown chunks (odd sizes padded) before the data', () => {
    const base = buildWav('pcmu', Buffer.from([1, 2, 3]));
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc'), Buffer.alloc(1)]);
    const file = Buffer.concat([base.subarray(0, 36), list, base.subarray(36)]);
    expect([...parseWav(file).data]).toEqual([1, 2, 3]);
  });

  it('converts 16-bit linear PCM and A-law to the law the call uses', () => {
    const pcm = Buffer.alloc(4);
    pcm.writeInt16LE(1000, 0);
    pcm.writeInt16LE(-1000, 2);
    const wav = parseWav(buildWav('pcm16', pcm));
    expect([...toG711(wav, 'pcmu')]).toEqual([encodeUlaw(1000), encodeUlaw(-1000)]);
    expect([...toG711(wav, 'pcma')]).toEqual([encodeAlaw(1000), encodeAlaw(-1000)]);
    expect([...toG711(parseWav(buildWav('pcma', Buffer.from([0xd5]))), 'pcmu')]).toEqual([ALAW_TO_ULAW[0xd5]]);
  });

  it('refuses what is not a usable prompt', () => {
    expect(() => parseWav(Buffer.from('not a wav file at all'))).toThrow(WavFormatError);
    expect(() => toG711(parseWav(buildWav('pcmu', Buffer.alloc(10), 16000)), 'pcmu')).toThrow(/8 kHz/);
    const noData = buildWav('pcmu', Buffer.alloc(0)).subarray(0, 36);
    expect(() => parseWav(noData)).toThrow(/no data/);
  });
});

describe('G.711', () => {
  it('mu-law and A-law round-trip every code through linear', () => {
    for (let c = 0; c < 256; c++) {
      expect(encodeUlaw(ULAW_TO_LINEAR[c] ?? 0)).toBe(c === 0x7f ? 0xff : c); // 0x7f and 0xff are both zero
      expect(encodeAlaw(ALAW_TO_LINEAR[c] ?? 0)).toBe(c);
    }
  });
  it('law-to-law maps keep the sign and roughly the level', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), (c) => {
        const viaA = ALAW_TO_LINEAR[ULAW_TO_ALAW[c] ?? 0] ?? 0;
        const orig = ULAW_TO_LINEAR[c] ?? 0;
        return Math.abs(viaA - orig) <= Math.max(16, Math.abs(orig) / 8);
      }),
    );
  });
});

describe('RTP packets', () => {
  it('encode then decode gives the header and payload back', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.integer({ min: 0, max: 127 }).filter((pt) => pt < 72 || pt > 76),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.uint8Array({ maxLength: 200 }),
        (marker, payloadType, sequence, timestamp, ssrc, payload) => {
          const p = decodeRtp(encodeRtp({ marker, payloadType, sequence, timestamp, ssrc }, payload));
          expect(p).toMatchObject({ marker, payloadType, sequence, timestamp, ssrc });
          expect([...(p?.payload ?? [])]).toEqual([...payload]);
        },
      ),
    );
  });

  it('skips CSRCs, the header extension and padding', () => {
    const head = Buffer.from([0x80 | 0x20 | 0x10 | 0x01, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]);
    const csrc = Buffer.alloc(4, 9);
    const ext = Buffer.from([0xbe, 0xde, 0, 1, 1, 2, 3, 4]);
    const pkt = Buffer.concat([head, csrc, ext, Buffer.from([7, 7]), Buffer.from([0, 0, 3])]);
    expect([...(decodeRtp(pkt)?.payload ?? [])]).toEqual([7, 7]);
  });

  it('refuses short packets, other versions, RTCP and impossible lengths', () => {
    expect(decodeRtp(Buffer.alloc(11))).toBeUndefined();
    expect(decodeRtp(Buffer.from([0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toBeUndefined();
    expect(decodeRtp(Buffer.from([0x80, 200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toBeUndefined(); // RTCP SR (PT 72 + marker)
    expect(decodeRtp(Buffer.from([0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toBeUndefined(); // 15 CSRCs claimed
  });
});

describe('RFC 4733 telephone-events', () => {
  const pkt = (event: number, end: boolean, duration: number): Buffer => encodeTelephoneEvent({ event, end, volume: 10, duration });

  it('decodes event, end bit, volume and duration', () => {
    expect(decodeTelephoneEvent(Buffer.from([0x0b, 0x8a, 0x08, 0xc0]))).toEqual({ event: 11, end: true, volume: 10, duration: 2240 });
    expect(decodeTelephoneEvent(Buffer.from([1, 2]))).toBeUndefined();
  });

  it('a key held over several packets with three redundant end packets counts once', () => {
    const rx = new TelephoneEventReceiver();
    const keys = [pkt(5, false, 160), pkt(5, false, 320), pkt(5, true, 480), pkt(5, true, 480), pkt(5, true, 480)].map((p) => rx.receive(1, 8000, p)?.digit);
    expect(keys).toEqual(['5', undefined, undefined, undefined, undefined]);
    expect(rx.durationMs(1, 8000, '5')).toBe(60);
  });

  it('duplicated packets count once; the same key again with a new timestamp counts again', () => {
    const rx = new TelephoneEventReceiver();
    const got: string[] = [];
    for (const ts of [100, 100, 900, 900])
      for (const p of [pkt(1, false, 160), pkt(1, true, 320)]) {
        const k = rx.receive(7, ts, p);
        if (k !== undefined) got.push(k.digit);
      }
    expect(got).toEqual(['1', '1']);
  });

  it('a key whose start packets were lost is counted from its end packet; a late update after the end changes nothing', () => {
    const rx = new TelephoneEventReceiver();
    expect(rx.receive(1, 500, pkt(11, true, 800))?.digit).toBe('#');
    expect(rx.receive(1, 500, pkt(11, false, 160))).toBeUndefined();
    expect(rx.durationMs(1, 500, '#')).toBe(100);
  });

  it('ignores events that are not keys (flash, tones)', () => {
    expect(new TelephoneEventReceiver().receive(1, 1, pkt(16, false, 160))).toBeUndefined();
  });

  it('the sip-tester RFC 2833 recordings give exactly their key', () => {
    const names: [string, string][] = [...'0123456789'].map((d) => [d, d]);
    names.push(['pound', '#'], ['star', '*']);
    for (const [file, key] of names) {
      const rx = new TelephoneEventReceiver();
      const got: string[] = [];
      for (const udp of readPcapUdpPayloads(readFileSync(`/usr/share/sip-tester/dtmf_2833_${file}.pcap`))) {
        const rtp = decodeRtp(udp);
        if (rtp === undefined || rtp.payloadType !== 101) continue;
        const k = rx.receive(rtp.ssrc, rtp.timestamp, rtp.payload);
        if (k !== undefined) got.push(k.digit);
      }
      expect(got, file).toEqual([key]);
    }
  });

  it('the project pcap generator writes each key of a string once, readable back', () => {
    const rx = new TelephoneEventReceiver();
    const got: string[] = [];
    for (const udp of readPcapUdpPayloads(toPcap(dtmfPackets('1234567890*#')))) {
      const rtp = decodeRtp(udp);
      if (rtp === undefined) continue;
      const k = rx.receive(rtp.ssrc, rtp.timestamp, rtp.payload);
      if (k !== undefined) got.push(k.digit);
    }
    expect(got.join('')).toBe('1234567890*#');
  });
});

describe('SIP INFO DTMF bodies', () => {
  it.each([
    ['application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n', { digit: '5', durationMs: 160 }],
    ['application/dtmf-relay', 'Signal= #\nDuration= 250', { digit: '#', durationMs: 250 }],
    ['Application/DTMF-Relay; charset=x', 'signal=*', { digit: '*' }],
    ['application/dtmf-relay', 'Signal=11\r\n', { digit: '#' }],
    ['application/dtmf', '7', { digit: '7' }],
    ['application/dtmf', ' 10 ', { digit: '*' }],
  ])('%s %j', (type, body, want) => {
    expect(parseDtmfInfo(type, body)).toEqual(want);
  });
  it.each([
    ['application/dtmf-relay', 'Duration=160'],
    ['application/dtmf-relay', 'Signal=Z'],
    ['application/dtmf', '55'],
    ['application/media_control+xml', '<x/>'],
    [undefined, 'Signal=1'],
  ])('not DTMF: %s %j', (type, body) => {
    expect(parseDtmfInfo(type, body)).toBeUndefined();
  });
});

describe('SDP offer/answer', () => {
  const offer = [
    'v=0',
    'o=caller 1 1 IN IP4 10.0.0.1',
    's=-',
    'c=IN IP4 10.0.0.1',
    't=0 0',
    'm=audio 40000 RTP/AVP 18 8 0 96',
    'a=rtpmap:18 G729/8000',
    'a=rtpmap:96 telephone-event/8000',
    'a=fmtp:96 0-15',
    'a=ptime:20',
    'a=sendrecv',
    '',
  ].join('\r\n');

  it('picks the first G.711 law the offer lists and its telephone-event payload type', () => {
    const n = negotiate(parseSdp(offer));
    expect(n).toEqual({ codec: 'PCMA', codecPt: 8, eventPt: 96, remoteAddress: '10.0.0.1', remotePort: 40000, send: true, receive: true });
    const answer = buildAnswer(n, '127.0.0.1', 30000);
    expect(answer).toContain('m=audio 30000 RTP/AVP 8 96\r\n');
    expect(answer).toContain('a=rtpmap:96 telephone-event/8000\r\n');
    expect(answer).toContain('a=ptime:20\r\n');
    expect(answer).toContain('c=IN IP4 127.0.0.1\r\n');
  });

  it('media-level c= wins over the session level; IPv6 addresses; no telephone-event means INFO only', () => {
    const m = negotiate(parseSdp('v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio 5000 RTP/AVP 0\r\nc=IN IP6 ::1\r\n'));
    expect(m).toMatchObject({ codec: 'PCMU', remoteAddress: '::1' });
    expect(m.eventPt).toBeUndefined();
    expect(buildAnswer(m, '::1', 30000)).toContain('c=IN IP6 ::1');
  });

  it('answers a sendonly offer (caller on hold) recvonly, and does not expect RTP from an inactive one', () => {
    const held = negotiate(parseSdp('v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio 5000 RTP/AVP 0\r\na=sendonly\r\n'));
    expect(held).toMatchObject({ send: false, receive: true });
    expect(buildAnswer(held, '127.0.0.1', 1)).toContain('a=recvonly');
    expect(negotiate(parseSdp('v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio 5000 RTP/AVP 0\r\na=inactive\r\n'))).toMatchObject({ send: false, receive: false });
  });

  it('our offer lists the preferred law first, the other, and telephone-event 101', () => {
    const o = buildOffer('127.0.0.1', 31000, 'PCMA');
    expect(o).toContain('m=audio 31000 RTP/AVP 8 0 101\r\n');
    const back = negotiate(parseSdp(o));
    expect(back).toMatchObject({ codec: 'PCMA', eventPt: 101 });
  });

  it('refuses offers without a usable audio stream', () => {
    expect(() => negotiate(parseSdp('v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio 5000 RTP/AVP 18\r\n'))).toThrow(/no common codec/);
    expect(() => negotiate(parseSdp('v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio 0 RTP/AVP 0\r\n'))).toThrow(/rejected/);
    expect(() => parseSdp('v=0\r\nc=IN IP4 1.1.1.1\r\nm=video 5000 RTP/AVP 96\r\n')).toThrow(SdpError);
    expect(() => parseSdp('v=0\r\nm=audio 5000 RTP/AVP 0\r\n')).toThrow(/connection address/);
    expect(() => negotiate(parseSdp('v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio 5000 RTP/AVP 0\r\na=rtpmap:0 PCMU/16000\r\n'))).toThrow(/no common codec/);
  });
});
