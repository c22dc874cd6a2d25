/** Refuses requests from known SIP scanners, recognised by their User-Agent (case-insensitive substring). */
import { refuse } from './guard-action.ts';
import type { RefusalOptions } from './guard-action.ts';
import type { SipMiddleware } from '../sip-types.ts';

export const DEFAULT_SCANNER_USER_AGENTS: readonly string[] = [
  'friendly-scanner',
  'sipvicious',
  'sipcli',
  'vaxsipuseragent',
  'sip-scan',
  'sipscan',
  'sundayddr',
  'iwar',
  'pplsip',
  'smap',
  'sipsak-scan',
  'voip-scan',
];

export type ScannerCheck = { kind: 'allowed' } | { kind: 'scanner'; match: string };

export class ScannerGuard {
  private readonly patterns: string[];

  constructor(userAgents: readonly string[] = DEFAULT_SCANNER_USER_AGENTS) {
    this.patterns = userAgents.map((u) => u.trim().toLowerCase()).filter((u) => u.length > 0);
  }

  check(userAgent: string | undefined): ScannerCheck {
    if (userAgent === undefined) return { kind: 'allowed' };
    const ua = userAgent.toLowerCase();
    const match = this.patterns.find((p) => ua.includes(p));
    return match === undefined ? { kind: 'allowed' } : { kind: 'scanner', match };
  }
}

/** Middleware (drops by default): `srf.use('register', [refuseScanners(guard), …])`. */
export function refuseScanners(guard: ScannerGuard, opts: RefusalOptions = {}): SipMiddleware {
  return (req, res, next) => {
    const r = guard.check(req.get('user-agent'));
    if (r.kind === 'scanner') {
      refuse(req, res, opts, 'drop', `scanner user agent (${r.match})`);
      return;
    }
    next();
  };
}
