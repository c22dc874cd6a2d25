/**
 * G.711 mu-law and A-law (ITU-T G.711): 16-bit linear ↔ 8-bit codes, plus the direct
 * mu-law ↔ A-law maps a relay uses when the two legs chose different laws. All by table.
 */

function linearToUlaw(sample: number): number {
  const BIAS = 0x84;
  const CLIP = 32635;
  let s = sample;
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function ulawToLinear(code: number): number {
  const u = ~code & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return sign !== 0 ? -magnitude : magnitude;
}

function linearToAlaw(sample: number): number {
  let s = sample >> 3; // 13-bit
  let mask: number;
  if (s >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    s = -s - 1;
  }
  const segEnds = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
  let seg = 0;
  while (seg < 8 && s > (segEnds[seg] ?? 0)) seg++;
  if (seg >= 8) return (0x7f ^ mask) & 0xff;
  let aval = seg << 4;
  aval |= seg < 2 ? (s >> 1) & 0x0f : (s >> seg) & 0x0f;
  return (aval ^ mask) & 0xff;
}

function alawToLinear(code: number): number {
  const a = code ^ 0x55;
  let t = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return (a & 0x80) !== 0 ? t : -t;
}

export const ULAW_TO_LINEAR = Int16Array.from({ length: 256 }, (_, i) => ulawToLinear(i));
export const ALAW_TO_LINEAR = Int16Array.from({ length: 256 }, (_, i) => alawToLinear(i));
export const ULAW_TO_ALAW = Uint8Array.from({ length: 256 }, (_, i) => linearToAlaw(ulawToLinear(i)));
export const ALAW_TO_ULAW = Uint8Array.from({ length: 256 }, (_, i) => linearToUlaw(alawToLinear(i)));

export function encodeUlaw(sample: number): number {
  return linearToUlaw(sample);
}
export function encodeAlaw(sample: number): number {
  return linearToAlaw(sample);
}

/** The code for silence in each law. */
export const ULAW_SILENCE = 0xff;
export const ALAW_SILENCE = 0xd5;

/** Map every byte through a 256-entry table (into a new buffer). */
export function mapBytes(src: Uint8Array, table: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(src.length);
  for (let i = 0; i < src.length; i++) out[i] = table[src[i] ?? 0] ?? 0;
  return out;
}
