/**
 * Does the digest's `uri` name the request's Request-URI? RFC 2617 §3.2.2.5 (kept by RFC 7616
 * §3.4.6): "The authenticating server MUST assure that the resource designated by the uri
 * parameter is the same as the resource specified in the Request-Line; if they are not, the server
 * SHOULD return a 400 Bad Request error." Without this a digest computed for one destination
 * (a captured or relayed INVITE) would authorise a call to another.
 *
 * Equality follows RFC 3261 §19.1.4 for what can change the resource: scheme, user (escapes
 * decoded), password, host (case-insensitive), port (absent = the scheme's default, as devices
 * write it either way), and the `user`, `ttl`, `method`, `maddr` and `transport` parameters when
 * either URI has them. Other parameters and the order of parameters do not matter.
 */
const COMPARED_PARAMS = ['user', 'ttl', 'method', 'maddr', 'transport'] as const;

interface UriParts {
  scheme: string;
  user: string;
  host: string;
  port: number;
  params: Map<string, string>;
}

function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

function parts(uri: string): UriParts | undefined {
  const m = /^(sips?):(?:([^@]*)@)?(\[[0-9a-fA-F:.]+\]|[^:;?]+)(?::(\d{1,5}))?((?:;[^?]*)?)(?:\?.*)?$/i.exec(uri.trim());
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  const user = decode(m[2] ?? '');
  if (user === undefined) return undefined;
  const params = new Map<string, string>();
  for (const p of (m[5] ?? '').split(';').filter((x) => x !== '')) {
    const eq = p.indexOf('=');
    const name = (eq < 0 ? p : p.slice(0, eq)).toLowerCase();
    params.set(name, (eq < 0 ? '' : p.slice(eq + 1)).toLowerCase());
  }
  const port = m[4] !== undefined ? Number(m[4]) : scheme === 'sips' ? 5061 : 5060;
  return { scheme, user, host: m[3]!.toLowerCase(), port, params };
}

export function digestUriMatches(digestUri: string, requestUri: string): boolean {
  if (digestUri === requestUri) return true;
  const a = parts(digestUri);
  const b = parts(requestUri);
  if (!a || !b) return false;
  if (a.scheme !== b.scheme || a.user !== b.user || a.host !== b.host || a.port !== b.port) return false;
  return COMPARED_PARAMS.every((p) => a.params.get(p) === b.params.get(p));
}
