/**
 * RFC 4733 telephone-events: the payload codec and a receiver that reports each key once.
 *
 *  0                   1                   2                   3
 * |     event     |E|R| volume    |          duration             |
 *
 * A sender repeats an event's packets (same RTP timestamp, growing duration) while the key is
 * held, then sends the end packet (E=1) three times (RFC 4733 §2.5.1.4). Packets may also be
 * duplicated or reordered by the network. The receiver therefore keys events by RTP timestamp
 * (§2.5.2.2: a new event has a new timestamp) and reports a key once, at the first packet of its
 * timestamp, so a caller interrupting a prompt is heard at once; later packets of that
 * timestamp (updates, the redundant end packets, duplicates) only complete its duration.
 */
import type { Digit } from '../media-port.ts';

export interface TelephoneEvent {
  event: number;
  end: boolean;
  volume: number;
  /** In RTP timestamp units (8 kHz: 1/8 ms). */
  duration: number;
}

const EVENT_DIGITS: readonly Digit[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D'];

export function eventToDigit(event: number): Digit | undefined {
  return EVENT_DIGITS[event];
}

export function digitToEvent(digit: Digit): number {
  return EVENT_DIGITS.indexOf(digit);
}

export function decodeTelephoneEvent(payload: Buffer): TelephoneEvent | undefined {
  if (payload.length < 4) return undefined;
  const b1 = payload[1] ?? 0;
  return { event: payload[0] ?? 0, end: (b1 & 0x80) !== 0, volume: b1 & 0x3f, duration: payload.readUInt16BE(2) };
}

export function encodeTelephoneEvent(e: TelephoneEvent): Buffer {
  const b = Buffer.alloc(4);
  b[0] = e.event & 0xff;
  b[1] = (e.end ? 0x80 : 0) | (e.volume & 0x3f);
  b.writeUInt16BE(e.duration & 0xffff, 2);
  return b;
}

export interface ReceivedKey {
  digit: Digit;
  timestamp: number;
}

/** Remembers the last few event timestamps per SSRC so every key is reported exactly once. */
export class TelephoneEventReceiver {
  private readonly seen = new Map<string, { ended: boolean; duration: number }>();
  private readonly order: string[] = [];

  constructor(private readonly memory = 32) {}

  /**
   * Feed one telephone-event packet. Returns the key when this packet starts a new event,
   * undefined for updates, redundant end packets, duplicates and unknown events.
   */
  receive(ssrc: number, timestamp: number, payload: Buffer): ReceivedKey | undefined {
    const ev = decodeTelephoneEvent(payload);
    if (ev === undefined) return undefined;
    const digit = eventToDigit(ev.event);
    if (digit === undefined) return undefined;
    const key = `${ssrc}:${timestamp}:${ev.event}`;
    const known = this.seen.get(key);
    if (known !== undefined) {
      if (!known.ended) {
        known.duration = Math.max(known.duration, ev.duration);
        known.ended = ev.end;
      }
      return undefined;
    }
    this.seen.set(key, { ended: ev.end, duration: ev.duration });
    this.order.push(key);
    if (this.order.length > this.memory) {
      const old = this.order.shift();
      if (old !== undefined) this.seen.delete(old);
    }
    return { digit, timestamp };
  }

  /** Duration so far (ms at 8 kHz) of the event at that timestamp, if remembered. */
  durationMs(ssrc: number, timestamp: number, digit: Digit): number | undefined {
    const e = this.seen.get(`${ssrc}:${timestamp}:${digitToEvent(digit)}`);
    return e === undefined ? undefined : e.duration / 8;
  }
}
