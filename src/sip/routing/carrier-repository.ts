import { BlockList, isIP } from 'node:net';
import type pg from 'pg';
import type { TariffRepository } from '../../billing/tariff-repository.ts';
import { RefreshingCache } from '../../common/refreshing-cache.ts';
import type { Carrier, Gateway } from './route-plan.ts';

interface GatewayRow {
  id: number;
  carrier_id: string;
  address: string;
  port: number;
  transport: 'udp' | 'tcp';
  priority: number;
  weight: number;
  tech_prefix: string;
  auth_username: string | null;
  auth_password: string | null;
}

interface CarrierSet {
  carriers: Carrier[];
  addresses: { carrierId: string; list: BlockList }[];
}

/**
 * Carriers, gateways and trusted carrier addresses from Postgres, reloaded every `cacheMs` (the
 * per-call path reads memory, not the database; while Postgres is unreachable the last good copy
 * keeps serving calls).
 */
export class CarrierRepository {
  private readonly cache: RefreshingCache<'all', CarrierSet>;

  constructor(
    private readonly pool: pg.Pool,
    private readonly tariffs: TariffRepository,
    cacheMs = 10_000,
  ) {
    this.cache = new RefreshingCache(() => this.reload(), { ttlMs: cacheMs });
  }

  async carriers(): Promise<Carrier[]> {
    return (await this.cache.get('all')).carriers;
  }

  /** The carrier a source address belongs to, if it is a trusted carrier address (matched in memory). */
  async carrierForAddress(address: string): Promise<string | undefined> {
    const family = isIP(address);
    if (family === 0) return undefined;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    return (await this.cache.get('all')).addresses.find((a) => a.list.check(address, type))?.carrierId;
  }

  invalidate(): void {
    this.cache.clear();
  }

  private async reload(): Promise<CarrierSet> {
    const { rows: cs } = await this.pool.query<{ id: string; tariff_id: string | null }>('select id, tariff_id from carriers where enabled order by id');
    const { rows: ps } = await this.pool.query<{ carrier_id: string; prefix: string }>('select carrier_id, prefix from carrier_prefixes');
    const { rows: gs } = await this.pool.query<GatewayRow>('select * from gateways where enabled order by id');
    const carriers: Carrier[] = [];
    for (const c of cs) {
      const tariff = c.tariff_id ? await this.tariffs.load(c.tariff_id) : undefined;
      carriers.push({
        id: c.id,
        prefixes: ps.filter((p) => p.carrier_id === c.id).map((p) => p.prefix),
        gateways: gs
          .filter((g) => g.carrier_id === c.id)
          .map((g): Gateway => ({
            id: g.id,
            carrierId: g.carrier_id,
            address: g.address,
            port: g.port,
            transport: g.transport,
            priority: g.priority,
            weight: g.weight,
            techPrefix: g.tech_prefix,
            ...(g.auth_username && g.auth_password ? { auth: { username: g.auth_username, password: g.auth_password } } : {}),
          })),
        ...(tariff ? { buyRate: (d: string) => tariff.lookup(d, new Date())?.pricePerMinute } : {}),
      });
    }
    const { rows: as } = await this.pool.query<{ carrier_id: string; network: string }>(
      'select ca.carrier_id, ca.network::text as network from carrier_addresses ca join carriers c on c.id = ca.carrier_id where c.enabled order by ca.carrier_id',
    );
    const lists = new Map<string, BlockList>();
    for (const a of as) {
      const [net, bits] = a.network.split('/');
      const type = isIP(net ?? '') === 6 ? 'ipv6' : 'ipv4';
      let list = lists.get(a.carrier_id);
      if (!list) {
        list = new BlockList();
        lists.set(a.carrier_id, list);
      }
      list.addSubnet(net!, Number(bits ?? (type === 'ipv4' ? 32 : 128)), type);
    }
    return { carriers, addresses: [...lists].map(([carrierId, list]) => ({ carrierId, list })) };
  }
}
