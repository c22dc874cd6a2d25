/**
 * What requests and responses share: headers in wire order, a byte body, and typed accessors
 * that parse a header on first use and cache the result until the headers change.
 *
 * Change headers only through the methods here (set/append/prepend/remove/replaceAt), so the
 * caches stay right. Header lookups are case-insensitive and accept compact forms (§7.3.3).
 */
import { canonicalHeaderName, headerKey, isListHeader } from './header-names.ts';
import { parseCSeq, parseNameAddr, parseVia, splitHeaderValues } from './grammar.ts';
import type { CSeq, NameAddr, SipHeader, Via } from './types.ts';

const EMPTY = Buffer.alloc(0);

interface Cache {
  vias?: Via[] | undefined;
  cseq?: CSeq | null;
  from?: NameAddr | null;
  to?: NameAddr | null;
}

export abstract class SipMessageBase {
  abstract readonly kind: 'request' | 'response';
  /** Headers in wire order. Read freely; change only through the methods below. */
  readonly headers: SipHeader[];
  /** The body bytes (Content-Length counts these). */
  body: Buffer;
  /** Size in bytes of the message as received (0 for messages built locally). */
  wireLength = 0;
  private cache: Cache | undefined;

  protected constructor(headers: SipHeader[] = [], body: Buffer = EMPTY) {
    this.headers = headers;
    this.body = body;
  }

  /** The first line, without CRLF. */
  abstract startLine(): string;

  // ---- generic header access ------------------------------------------------------------

  /** Value of the first header with this name (any case, compact or long form). */
  get(name: string): string | undefined {
    const key = headerKey(name);
    for (const h of this.headers) if (h.key === key) return h.value;
    return undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /**
   * Every value of the header, in order. For list headers (Via, Route, Contact, Supported…)
   * comma-separated values are split (never inside quotes or <>); other headers (e.g.
   * WWW-Authenticate) return one entry per header line.
   */
  getAll(name: string): string[] {
    const key = headerKey(name);
    const split = isListHeader(key);
    const out: string[] = [];
    for (const h of this.headers) {
      if (h.key !== key) continue;
      if (split && h.value.indexOf(',') >= 0) {
        for (const v of splitHeaderValues(h.value)) out.push(v);
      } else if (h.value.length > 0 || !split) {
        out.push(h.value);
      }
    }
    return out;
  }

  /** Number of header lines with this name. */
  count(name: string): number {
    const key = headerKey(name);
    let n = 0;
    for (const h of this.headers) if (h.key === key) n++;
    return n;
  }

  /** Replace all headers of this name by one line (at the place of the first, or at the end). */
  set(name: string, value: string): this {
    const key = headerKey(name);
    const line: SipHeader = { name: canonicalName(name), key, value };
    let placed = false;
    for (let i = 0; i < this.headers.length; i++) {
      if (this.headers[i]?.key !== key) continue;
      if (!placed) {
        this.headers[i] = line;
        placed = true;
      } else {
        this.headers.splice(i, 1);
        i--;
      }
    }
    if (!placed) this.headers.push(line);
    this.cache = undefined;
    return this;
  }

  /** Add a header line after all others. */
  append(name: string, value: string): this {
    this.headers.push({ name: canonicalName(name), key: headerKey(name), value });
    this.cache = undefined;
    return this;
  }

  /** Add a header line before the first line of the same name (or first of all if none). */
  prepend(name: string, value: string): this {
    const key = headerKey(name);
    const line: SipHeader = { name: canonicalName(name), key, value };
    const at = this.headers.findIndex((h) => h.key === key);
    this.headers.splice(at < 0 ? 0 : at, 0, line);
    this.cache = undefined;
    return this;
  }

  /** Remove every header of this name; returns how many lines were removed. */
  remove(name: string): number {
    const key = headerKey(name);
    let n = 0;
    for (let i = this.headers.length - 1; i >= 0; i--) {
      if (this.headers[i]?.key === key) {
        this.headers.splice(i, 1);
        n++;
      }
    }
    if (n > 0) this.cache = undefined;
    return n;
  }

  /** Replace the header line at `index` by a new value (keeps the name as written). */
  replaceAt(index: number, value: string): void {
    const old = this.headers[index];
    if (old === undefined) throw new RangeError(`no header at index ${index}`);
    this.headers[index] = { name: old.name, key: old.key, value };
    this.cache = undefined;
  }

  // ---- typed accessors ------------------------------------------------------------------

  get callId(): string | undefined {
    return this.get('call-id');
  }

  /** Parsed CSeq, or undefined when absent or malformed. */
  get cseq(): CSeq | undefined {
    const c = (this.cache ??= {});
    if (c.cseq === undefined) {
      const v = this.get('cseq');
      c.cseq = (v === undefined ? undefined : parseCSeq(v)) ?? null;
    }
    return c.cseq ?? undefined;
  }

  get from(): NameAddr | undefined {
    const c = (this.cache ??= {});
    if (c.from === undefined) {
      const v = this.get('from');
      c.from = (v === undefined ? undefined : parseNameAddr(v)) ?? null;
    }
    return c.from ?? undefined;
  }

  get to(): NameAddr | undefined {
    const c = (this.cache ??= {});
    if (c.to === undefined) {
      const v = this.get('to');
      c.to = (v === undefined ? undefined : parseNameAddr(v)) ?? null;
    }
    return c.to ?? undefined;
  }

  get fromTag(): string | undefined {
    return this.from?.params.get('tag') ?? undefined;
  }

  get toTag(): string | undefined {
    return this.to?.params.get('tag') ?? undefined;
  }

  /** All Via values, top first; a value that fails to parse ends the list. */
  get vias(): readonly Via[] {
    const c = (this.cache ??= {});
    if (c.vias === undefined) {
      const vias: Via[] = [];
      for (const raw of this.getAll('via')) {
        const v = parseVia(raw);
        if (v === undefined) break;
        vias.push(v);
      }
      c.vias = vias;
    }
    return c.vias;
  }

  get topVia(): Via | undefined {
    return this.vias[0];
  }

  /** Max-Forwards as a number, undefined when absent or not a number. */
  get maxForwards(): number | undefined {
    const v = this.get('max-forwards');
    if (v === undefined || v.length === 0 || v.length > 3) return undefined;
    const n = Number(v);
    return Number.isInteger(n) && n >= 0 ? n : undefined;
  }

  /** The body decoded as UTF-8. */
  get bodyText(): string {
    return this.body.length === 0 ? '' : this.body.toString('utf8');
  }

  /** Replace the body (a string is encoded as UTF-8). Content-Length is computed on serialising. */
  setBody(body: string | Buffer): this {
    this.body = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    return this;
  }

  /**
   * Start line, headers and the blank line, as text. Unchanged headers are written as received;
   * Content-Length always states the body's byte length (added when absent, a duplicate dropped).
   */
  head(): string {
    const bodyLength = this.body.length;
    let out = this.startLine() + '\r\n';
    let hasLength = false;
    for (const h of this.headers) {
      if (h.key === 'content-length') {
        if (hasLength) continue;
        hasLength = true;
      }
      out += headerLine(h, bodyLength) + '\r\n';
    }
    if (!hasLength) out += `Content-Length: ${bodyLength}\r\n`;
    return out + '\r\n';
  }

  /** The message as UTF-8 text (head and body). serialiseMessage gives the bytes. */
  toString(): string {
    return this.head() + this.bodyText;
  }
}

/** Keep names as given, but write single-letter names the caller passes in long form. */
function canonicalName(name: string): string {
  return name.length === 1 ? canonicalHeaderName(name) : name;
}

/** One header line as it goes on the wire; Content-Length always states the real body size. */
export function headerLine(h: SipHeader, bodyLength: number): string {
  if (h.key === 'content-length') {
    if (h.raw !== undefined && h.value === String(bodyLength)) return h.raw;
    return `${h.name}: ${bodyLength}`;
  }
  return h.raw ?? `${h.name}: ${h.value}`;
}
