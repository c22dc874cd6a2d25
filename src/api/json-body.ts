import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';

/**
 * JSON bodies, stricter than JSON.parse: the bytes must be valid UTF-8 (a replacement character
 * must never be stored in place of what was sent) and no object may repeat a key (JSON.parse
 * keeps the last one, so `{"amount":1,"amount":1e12}` would read differently to a proxy or log
 * than to us), and no string may hold U+0000 (Postgres text cannot store it: it was a 500). Then
 * Fastify's own parser (which refuses __proto__ and constructor keys).
 */
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function registerStrictJson(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req: FastifyRequest, body: Buffer, done) => {
    let text: string;
    try {
      text = utf8.decode(body);
    } catch {
      done(new AppError('INVALID_BODY', 'the body is not valid UTF-8'), undefined);
      return;
    }
    // Fastify's parser in callback form: it reports through the callback, its return value carries nothing.
    void parse(req, text, (err, value) => {
      if (err) {
        done(new AppError('INVALID_BODY', 'the body is not valid JSON'), undefined);
        return;
      }
      const repeated = repeatedKey(text);
      if (repeated !== undefined) {
        done(new AppError('INVALID_BODY', `the key ${JSON.stringify(repeated).slice(0, 70)} appears twice in one object`), undefined);
        return;
      }
      if (holdsNul(value)) {
        done(new AppError('INVALID_BODY', NUL_REFUSAL), undefined);
        return;
      }
      // only an escape (\ud800) can put a lone surrogate in the value: the text itself is valid UTF-8
      if (ESCAPED_SURROGATE.test(text) && holdsLoneSurrogate(value)) {
        done(new AppError('INVALID_BODY', LONE_SURROGATE_REFUSAL), undefined);
        return;
      }
      done(null, value);
    });
  });
}

export const NUL_REFUSAL = 'a NUL character (U+0000) is refused: nothing can store it';

export const LONE_SURROGATE_REFUSAL = 'a string is not well-formed Unicode (a lone surrogate such as \\ud800): no mail, URL or database text can hold it';
const ESCAPED_SURROGATE = /\\u[dD][89a-fA-F]/;
const LONE_SURROGATE = /\p{Cs}/u;

/** Does any string in a parsed JSON value, key or value, hold a surrogate that is not half of a pair? */
export function holdsLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return LONE_SURROGATE.test(value);
  if (Array.isArray(value)) return value.some(holdsLoneSurrogate);
  if (value !== null && typeof value === 'object') return Object.entries(value).some(([k, v]) => LONE_SURROGATE.test(k) || holdsLoneSurrogate(v));
  return false;
}

/** Does any string in a parsed JSON value, key or value, hold U+0000 (which Postgres text cannot store)? */
export function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(holdsNul);
  if (value !== null && typeof value === 'object') return Object.entries(value).some(([k, v]) => k.includes('\u0000') || holdsNul(v));
  return false;
}

/** The first key repeated within one object of a (valid) JSON text, if any. */
export function repeatedKey(text: string): string | undefined {
  const frames: { keys: Set<string> | undefined; expectKey: boolean }[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') frames.push({ keys: new Set(), expectKey: true });
    else if (c === '[') frames.push({ keys: undefined, expectKey: false });
    else if (c === '}' || c === ']') frames.pop();
    else if (c === ',') {
      const f = frames.at(-1);
      if (f?.keys) f.expectKey = true;
    } else if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const f = frames.at(-1);
      if (f?.keys && f.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (f.keys.has(key)) return key;
        f.keys.add(key);
        f.expectKey = false;
      }
      i = j;
    }
  }
  return undefined;
}
