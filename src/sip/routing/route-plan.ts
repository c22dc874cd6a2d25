/**
 * Carrier route selection, pure: which gateways may carry a call to a destination, in the order
 * to try them. Least-cost mode orders carriers by their buy rate for the destination (unknown
 * rate last), priority mode by gateway priority; ties are broken by weight, randomly in
 * proportion (RFC 2782 style), so load spreads over equal gateways.
 */
export interface Gateway {
  id: number;
  carrierId: string;
  address: string;
  port: number;
  transport: 'udp' | 'tcp';
  priority: number; // lower first
  weight: number; // share among equal priority
  techPrefix: string;
  auth?: { username: string; password: string };
}

export interface Carrier {
  id: string;
  prefixes: string[]; // '' = all destinations
  gateways: Gateway[];
  /** Buy price per minute (micro-units) for a destination, if the carrier has a tariff with a rate for it. */
  buyRate?: (destination: string) => number | undefined;
}

export type RoutingMode = 'least_cost' | 'priority';

export interface RouteAttempt {
  gateway: Gateway;
  carrierId: string;
  buyRate: number | undefined;
  uri: string;
}

function longestMatch(prefixes: readonly string[], destination: string): number {
  let best = -1;
  for (const p of prefixes) if (destination.startsWith(p) && p.length > best) best = p.length;
  return best;
}

/** Weighted random order of equal-rank gateways; `random` in [0, 1) is injectable for tests. */
export function weightedOrder<T extends { weight: number }>(items: readonly T[], random: () => number = Math.random): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (pool.length > 0) {
    const total = pool.reduce((s, g) => s + g.weight, 0);
    let pick = random() * total;
    let i = 0;
    for (; i < pool.length - 1; i++) {
      pick -= pool[i]!.weight;
      if (pick < 0) break;
    }
    out.push(pool.splice(i, 1)[0]!);
  }
  return out;
}

export function planRoutes(carriers: readonly Carrier[], destination: string, mode: RoutingMode, random: () => number = Math.random): RouteAttempt[] {
  if (!/^[0-9]{1,15}$/.test(destination)) return [];
  const ranked: { carrier: Carrier; cost: number | undefined }[] = [];
  for (const c of carriers) {
    if (longestMatch(c.prefixes, destination) < 0) continue;
    ranked.push({ carrier: c, cost: c.buyRate?.(destination) });
  }
  type Candidate = { g: Gateway; cost: number | undefined; key: [number, number] };
  const candidates: Candidate[] = [];
  for (const { carrier, cost } of ranked) {
    for (const g of carrier.gateways) {
      candidates.push({ g, cost, key: mode === 'least_cost' ? [cost ?? Number.POSITIVE_INFINITY, g.priority] : [g.priority, 0] });
    }
  }
  candidates.sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1]);
  const out: RouteAttempt[] = [];
  for (let i = 0; i < candidates.length;) {
    let j = i;
    while (j < candidates.length && candidates[j]!.key[0] === candidates[i]!.key[0] && candidates[j]!.key[1] === candidates[i]!.key[1]) j++;
    const group = candidates.slice(i, j).map((c) => ({ ...c, weight: c.g.weight }));
    for (const c of weightedOrder(group, random)) {
      out.push({ gateway: c.g, carrierId: c.g.carrierId, buyRate: c.cost, uri: gatewayUri(c.g, destination) });
    }
    i = j;
  }
  return out;
}

export function gatewayUri(g: Gateway, destination: string): string {
  const host = g.address.includes(':') && !g.address.startsWith('[') ? `[${g.address}]` : g.address;
  const transport = g.transport === 'tcp' ? ';transport=tcp' : '';
  return `sip:${g.techPrefix}${destination}@${host}:${g.port}${transport}`;
}
