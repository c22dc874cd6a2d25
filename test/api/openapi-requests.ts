/**
 * Requests drawn from the OpenAPI document, for the HTTP fuzzer (test/api/http-fuzz.test.ts):
 * every operation, with path, query and body values that are mostly shaped like the schema asks
 * (so they reach the handlers) and sometimes hostile (wrong types, huge numbers, bad UTF-8, repeated
 * keys, the wrong content type, broken percent-encoding). Seeded by fast-check like any arbitrary.
 */
import fc from 'fast-check';

export interface Operation {
  method: string;
  path: string;
  tags: string[];
  params: { in: string; name: string; schema: Schema }[];
  body?: { type: string; schema: Schema };
}
export interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  default?: unknown;
}
export interface Ids {
  accountId: number;
  customerId: number;
  otherAccountId: number;
  cli: string;
}
export interface FuzzRequest {
  method: string;
  url: string;
  route: string;
  tags: string[];
  principal: Principal;
  headers: Record<string, string>;
  payload?: string | Buffer;
}
export type Principal = 'admin' | 'billing' | 'read' | 'customer' | 'none' | 'garbage';

/** The operations of the document, one per method and path. */
export function operationsOf(doc: {
  paths: Record<
    string,
    Record<
      string,
      { tags?: string[]; parameters?: { in: string; name: string; schema: Schema }[]; requestBody?: { content: Record<string, { schema: Schema }> } }
    >
  >;
}): Operation[] {
  const out: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const content = Object.entries(op.requestBody?.content ?? {})[0];
      out.push({
        method: method.toUpperCase(),
        path,
        tags: op.tags ?? [],
        params: op.parameters ?? [],
        ...(content ? { body: { type: content[0], schema: content[1].schema } } : {}),
      });
    }
  }
  return out;
}

const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  '../../etc/passwd',
  '%00',
  '<script>x</script>',
  "' or 1=1 --",
  '4111111111111111',
  'tok_test_ok',
  'tok_test_decline',
  '+447700900123',
  '+4409123',
  '000000',
  '123456',
  '1e400',
  'NaN',
  '-1',
  '9'.repeat(40),
  'é'.repeat(3),
  '\ud800',
  'a'.repeat(3000),
];
const HOSTILE_NUMBERS = [0, -1, 1, 1e15, 1e16, 2 ** 53, Number.MAX_SAFE_INTEGER, -(2 ** 63), 0.5, 1e-7];

const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...HOSTILE_STRINGS),
  fc.constantFrom(...HOSTILE_NUMBERS),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 20 }),
  fc.constant({}),
  fc.constant([]),
  fc.integer(),
);

/** A value for a schema: shaped as asked three times in four, hostile otherwise. */
export function valueFor(s: Schema | undefined, ids: Ids, depth = 0): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 3, arbitrary: shaped(s, ids, depth) }, { weight: 1, arbitrary: hostile });
}

function shaped(s: Schema | undefined, ids: Ids, depth: number): fc.Arbitrary<unknown> {
  if (!s || depth > 3) return hostile;
  if (s.enum?.length) return fc.constantFrom(...s.enum);
  const type = Array.isArray(s.type) ? (s.type.find((t) => t !== 'null') ?? 'string') : (s.type ?? (s.properties ? 'object' : 'string'));
  switch (type) {
    case 'integer': {
      const min = s.minimum ?? -(2 ** 31),
        max = s.maximum ?? 2 ** 40;
      return fc.oneof(
        fc.integer({ min: Math.max(min, -(2 ** 31)), max: Math.min(max, 2 ** 40) }),
        fc.constantFrom(ids.accountId, ids.customerId, ids.otherAccountId, 1_000_000, 0),
      );
    }
    case 'number':
      return fc.double({ noNaN: true, min: -1e9, max: 1e9 });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(valueFor(s.items, ids, depth + 1), { maxLength: 3 });
    case 'object': {
      const props = s.properties ?? {};
      const keys = Object.keys(props);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const k of keys) record[k] = valueFor(props[k], ids, depth + 1);
      return keys.length === 0 ? fc.constant({}) : fc.record(record, { requiredKeys: (s.required ?? []).filter((k) => keys.includes(k)) });
    }
    default:
      return stringFor(s, ids);
  }
}

function stringFor(s: Schema, ids: Ids): fc.Arbitrary<string> {
  if (s.format === 'date-time') return fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
  if (s.pattern) {
    const re = safeRegExp(s.pattern);
    if (re)
      return fc.oneof(
        fc.stringMatching(re).filter((x) => x.length <= (s.maxLength ?? 200)),
        fc.constant(ids.cli),
      );
  }
  return fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 40, 40) });
}

function safeRegExp(p: string): RegExp | undefined {
  try {
    return new RegExp(p);
  } catch {
    return undefined;
  }
}

/** Any value as text (fast-check's objects may have no prototype, so no String()). */
function text(v: unknown): string {
  return typeof v === 'string' ? v : (JSON.stringify(v) ?? 'undefined');
}

/** A path segment; a lone surrogate cannot be encoded, so it is sent as the bytes of one (invalid UTF-8). */
function encodePath(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80';
  }
}

/** JSON with a key repeated (the second one wins in JSON.parse). */
function duplicateKeys(v: unknown): string {
  if (!v || typeof v !== 'object' || Array.isArray(v) || Object.keys(v).length === 0) return '{"amount":1,"amount":1000000000000}';
  const [k, val] = Object.entries(v)[0]!;
  return `{${JSON.stringify(k)}:${JSON.stringify(val)},${JSON.stringify(k)}:${JSON.stringify(val)}${Object.keys(v).length > 1 ? `,${JSON.stringify(v).slice(1, -1)}` : ''}}`;
}

/** One request against one of `ops`. */
export function requestFor(ops: Operation[], ids: Ids): fc.Arbitrary<FuzzRequest> {
  return fc.constantFrom(...ops).chain((op) => {
    const pathParams = op.params.filter((p) => p.in === 'path');
    const queryParams = op.params.filter((p) => p.in === 'query');
    const pathValues = fc.tuple(
      ...pathParams.map((p) =>
        fc.oneof(
          { weight: 4, arbitrary: valueFor(p.schema, ids) },
          { weight: 1, arbitrary: fc.constantFrom('%zz', '%', '..', '%2F..%2F', '%00', 'x'.repeat(300)) },
        ),
      ),
    );
    const query = fc.dictionary(
      fc.constantFrom(...queryParams.map((p) => p.name), 'limit', 'cursor', 'zz'),
      fc.oneof(valueFor({ type: 'string' }, ids), fc.integer()),
      { maxKeys: 3 },
    );
    const body = valueFor(op.body?.schema, ids);
    const encoding = fc.constantFrom(
      'json',
      'json',
      'json',
      'json',
      'text',
      'form',
      'invalid-json',
      'bad-utf8',
      'duplicate-keys',
      'none',
      'huge',
      'wrong-type',
    );
    const principal = fc.constantFrom<Principal>(
      ...(op.tags.includes('self-care')
        ? (['customer', 'customer', 'customer', 'admin', 'none', 'garbage'] as const)
        : (['admin', 'admin', 'billing', 'read', 'customer', 'none', 'garbage'] as const)),
    );
    return fc.tuple(pathValues, query, body, encoding, principal, fc.boolean()).map(([pv, q, b, enc, who, idem]) => {
      let url = op.path;
      pathParams.forEach((p, i) => {
        const v = pv[i];
        const segment = typeof v === 'string' && /^%|^\.\.|^x{300}$/.test(v) ? v : encodePath(text(v));
        url = url.replace(`{${p.name}}`, segment);
      });
      const qs = new URLSearchParams(Object.entries(q).map(([k, v]): [string, string] => [k, text(v)])).toString();
      if (qs) url += `?${qs}`;
      const headers: Record<string, string> = {};
      let payload: string | Buffer | undefined;
      const json = op.body?.type ?? 'application/json';
      switch (enc) {
        case 'json':
          headers['content-type'] = json === 'text/csv' ? 'text/csv' : 'application/json';
          payload = json === 'text/csv' ? 'prefix,price_per_minute\n44,0.01\n' : JSON.stringify(b ?? {});
          break;
        case 'text':
          headers['content-type'] = 'text/plain';
          payload = text(b);
          break;
        case 'form':
          headers['content-type'] = 'application/x-www-form-urlencoded';
          payload = new URLSearchParams(
            Object.entries(typeof b === 'object' && b ? b : { v: text(b) }).map(([k, v]): [string, string] => [k, text(v)]),
          ).toString();
          break;
        case 'invalid-json':
          headers['content-type'] = 'application/json';
          payload = '{"amount": 1,';
          break;
        case 'bad-utf8':
          headers['content-type'] = 'application/json';
          payload = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('","cli":"+447700900123"}')]);
          break;
        case 'duplicate-keys':
          headers['content-type'] = 'application/json';
          payload = duplicateKeys(b);
          break;
        case 'huge':
          headers['content-type'] = 'application/json';
          payload = `{"name":"${'x'.repeat(300 * 1024)}"}`;
          break;
        case 'wrong-type':
          headers['content-type'] = 'multipart/form-data; boundary=zz';
          payload = '--zz\r\ncontent-disposition: form-data; name="x"\r\n\r\n1\r\n--zz--\r\n';
          break;
        case 'none':
          break;
      }
      if (idem) headers['idempotency-key'] = 'fuzz-key';
      const req: FuzzRequest = {
        method: op.method,
        url,
        route: `${op.method} ${op.path}`,
        tags: op.tags,
        principal: who,
        headers,
        ...(payload !== undefined && op.method !== 'GET' && op.method !== 'HEAD' ? { payload } : {}),
      };
      // a counterexample prints short: method, URL, credential, encoding and the start of the body
      Object.defineProperty(req, fc.toStringMethod, {
        value: () => `${req.method} ${url.slice(0, 200)} as ${who} (${enc}) ${(req.payload ?? '').toString().slice(0, 200)}`,
        enumerable: false,
      });
      return req;
    });
  });
}
