/**
 * Personal data in log lines, masked by default (`LOG_PERSONAL_DATA=mask`): telephone numbers keep
 * their first two digits and last two (`+44*******23`: enough to tell the country and to match a
 * complaint, not to call anyone), IP addresses keep their network half (`203.0.x.x`, IPv6 its first
 * three groups), user names their first two characters, e-mail addresses their first character
 * and domain, and addresses inside call ids (SIP Call-IDs often end in `@<caller's IP>`) are masked
 * in place. Applied by key name (pino serializers) to log objects and child-logger bindings, and
 * inside an object under such a key (`source: { address }`) two levels deep;
 * `LOG_PERSONAL_DATA=full` logs them as they are (for a debugging session, then switched back).
 * Free text in messages is not scanned: the code logs personal values as fields, never in messages.
 */

const NUMBER_KEYS = new Set([
  'destination',
  'dialled',
  'dialledNumber',
  'number',
  'cli',
  'callerId',
  'caller',
  'callee',
  'from',
  'to',
  'msisdn',
  'phone',
  'did',
]);
const ADDRESS_KEYS = new Set(['sourceIp', 'ip', 'address', 'remoteAddress', 'received', 'contact', 'source']);
const USER_KEYS = new Set(['username', 'user', 'sipUsername', 'aor', 'login']);
const EMAIL_KEYS = new Set(['email', 'to_email']);
const ID_KEYS = new Set(['callId', 'call', 'ref']);

const IPV4 = /\b(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}\b/g;
const IPV6 = /\b([0-9a-f]{1,4}:[0-9a-f]{1,4}:[0-9a-f]{1,4})(?::[0-9a-f]{0,4}){2,5}\b/gi;

export function maskNumber(s: string): string {
  const m = /^(\+|00)?(.*)$/.exec(s);
  const prefix = m?.[1] ?? '';
  const rest = m?.[2] ?? s;
  const digits = rest.replace(/\D/g, '').length;
  if (digits < 5) return s;
  let seen = 0;
  return (
    prefix +
    rest.replace(/\d/g, (d) => {
      seen++;
      return seen <= 2 || seen > digits - 2 ? d : '*';
    })
  );
}

export function maskAddresses(s: string): string {
  return s.replace(IPV4, '$1.$2.x.x').replace(IPV6, '$1::x');
}

function maskUser(s: string): string {
  return s.length <= 2 ? '**' : `${s.slice(0, 2)}…`;
}

function maskEmail(s: string): string {
  const at = s.lastIndexOf('@');
  return at <= 0 ? maskUser(s) : `${s[0]}…${s.slice(at)}`;
}

function maskValue(key: string, v: unknown, depth: number): unknown {
  if (typeof v === 'string') {
    if (NUMBER_KEYS.has(key)) return maskNumber(v);
    if (ADDRESS_KEYS.has(key) || ID_KEYS.has(key)) return maskAddresses(v);
    if (USER_KEYS.has(key)) return maskUser(v);
    if (EMAIL_KEYS.has(key)) return maskEmail(v);
    return v;
  }
  if (depth < 2 && v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Error))
    return maskPersonal(v as Record<string, unknown>, depth + 1);
  return v;
}

/**
 * pino serializers, one per personal key: pino applies them to log objects and to child-logger
 * bindings alike, and only where the key is present (no walk over every log object).
 */
export function personalDataSerializers(): Record<string, (v: unknown) => unknown> {
  const out: Record<string, (v: unknown) => unknown> = {};
  for (const key of [...NUMBER_KEYS, ...ADDRESS_KEYS, ...USER_KEYS, ...EMAIL_KEYS, ...ID_KEYS]) out[key] = (v) => maskValue(key, v, 0);
  return out;
}

/** A copy of a log object with personal values masked (the object itself is not changed). */
export function maskPersonal(o: Record<string, unknown>, depth = 0): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(o)) {
    const v = o[key];
    const m = maskValue(key, v, depth);
    if (m !== v) {
      out ??= { ...o };
      out[key] = m;
    }
  }
  return out ?? o;
}
