import type pg from 'pg';
import type { AccountLookup } from '../accounts/account-ports.ts';
import type { Account } from '../accounts/account-service.ts';
import { AppError } from '../errors.ts';
import type { NotifyChange } from '../common/change-notices.ts';

/**
 * Carriers and their gateways, access numbers and personal numbers (DIDs): the reference data
 * the SIP application routes by, as the API and the CLI change it. The SIP side reads the same
 * tables through its own caches (src/sip/routing).
 */

export interface Gateway {
  id: number;
  carrierId: string;
  address: string;
  port: number;
  transport: string;
  priority: number;
  weight: number;
  techPrefix: string;
  enabled: boolean;
  authUsername: string | null;
  hasAuthPassword: boolean;
}
export interface Carrier {
  id: string;
  name: string;
  tariffId: string | null;
  enabled: boolean;
  prefixes: string[];
  addresses: string[];
  gateways: Gateway[];
}
export interface CarrierInput {
  name: string;
  tariffId?: string | null;
  enabled?: boolean;
  prefixes?: string[];
  addresses?: string[];
}
export interface GatewayInput {
  address: string;
  port?: number;
  transport?: 'udp' | 'tcp';
  priority?: number;
  weight?: number;
  techPrefix?: string;
  enabled?: boolean;
  authUsername?: string | null;
  authPassword?: string | null;
}
export interface AccessNumber {
  number: string;
  language: string;
  description: string;
}
export interface Did {
  number: string;
  accountId: number;
  sipUsername: string | null;
  createdAt: Date;
}

const GATEWAY = `id, carrier_id as "carrierId", address, port, transport, priority, weight, tech_prefix as "techPrefix", enabled,
  auth_username as "authUsername", auth_password is not null as "hasAuthPassword"`;
const DID = 'number, account_id as "accountId", sip_username as "sipUsername", created_at as "createdAt"';

/** A Postgres refusal as the registry error it means (a missing reference, a duplicate, a bad value). */
function pgError(err: unknown): unknown {
  const e = err as { code?: string; constraint?: string };
  if (e.code === '23503')
    return new AppError(e.constraint?.includes('tariff') ? 'UNKNOWN_TARIFF' : e.constraint?.includes('account') ? 'UNKNOWN_ACCOUNT' : 'UNKNOWN_CARRIER');
  if (e.code === '23505') return new AppError('ALREADY_EXISTS');
  if (e.code === '22P02' || e.code === '23514') return new AppError('VALIDATION_FAILED', 'a value is not valid');
  return err;
}

export class RoutingData {
  /** `notify` pushes each change to the SIP app processes (common/change-notices.ts); it must not throw. */
  constructor(
    private readonly pool: pg.Pool,
    private readonly accounts: AccountLookup,
    private readonly notify: NotifyChange = () => Promise.resolve(),
  ) {}

  async carrier(carrierId: string): Promise<Carrier> {
    const { rows } = await this.pool.query<{ id: string; name: string; tariffId: string | null; enabled: boolean }>(
      'select id, name, tariff_id as "tariffId", enabled from carriers where id = $1',
      [carrierId],
    );
    if (!rows[0]) throw new AppError('UNKNOWN_CARRIER');
    const [p, a, g] = await Promise.all([
      this.pool.query<{ prefix: string }>('select prefix from carrier_prefixes where carrier_id = $1 order by prefix', [carrierId]),
      this.pool.query<{ network: string }>('select network::text as network from carrier_addresses where carrier_id = $1 order by network', [carrierId]),
      this.pool.query<Gateway>(`select ${GATEWAY} from gateways where carrier_id = $1 order by priority, id`, [carrierId]),
    ]);
    return { ...rows[0], prefixes: p.rows.map((r) => r.prefix), addresses: a.rows.map((r) => r.network), gateways: g.rows };
  }

  async carriers(): Promise<Carrier[]> {
    const { rows } = await this.pool.query<{ id: string }>('select id from carriers order by id');
    return Promise.all(rows.map((r) => this.carrier(r.id)));
  }

  /** Creates or replaces a carrier; its prefixes and trusted addresses are replaced, its gateways stay. */
  async putCarrier(carrierId: string, b: CarrierInput): Promise<Carrier> {
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      await client.query(
        `insert into carriers (id, name, tariff_id, enabled) values ($1, $2, $3, $4)
         on conflict (id) do update set name = excluded.name, tariff_id = excluded.tariff_id, enabled = excluded.enabled`,
        [carrierId, b.name, b.tariffId ?? null, b.enabled ?? true],
      );
      await client.query('delete from carrier_prefixes where carrier_id = $1', [carrierId]);
      await client.query('insert into carrier_prefixes (carrier_id, prefix) select $1, unnest($2::text[])', [carrierId, b.prefixes ?? ['']]);
      await client.query('delete from carrier_addresses where carrier_id = $1', [carrierId]);
      await client.query('insert into carrier_addresses (carrier_id, network) select $1, unnest($2::cidr[])', [carrierId, b.addresses ?? []]);
      await client.query('commit');
    } catch (err) {
      await client.query('rollback');
      throw pgError(err);
    } finally {
      client.release();
    }
    await this.notify('carriers', carrierId);
    return this.carrier(carrierId);
  }

  /** Removes a carrier with its gateways. */
  async removeCarrier(carrierId: string): Promise<void> {
    const { rowCount } = await this.pool.query('delete from carriers where id = $1', [carrierId]);
    if (!rowCount) throw new AppError('UNKNOWN_CARRIER');
    await this.notify('carriers', carrierId);
  }

  /** Adds a gateway; an auth password is stored for outbound challenges and never returned. */
  async addGateway(carrierId: string, b: GatewayInput): Promise<Gateway> {
    try {
      const { rows } = await this.pool.query<Gateway>(
        `insert into gateways (carrier_id, address, port, transport, priority, weight, tech_prefix, enabled, auth_username, auth_password)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning ${GATEWAY}`,
        [
          carrierId,
          b.address,
          b.port ?? 5060,
          b.transport ?? 'udp',
          b.priority ?? 10,
          b.weight ?? 100,
          b.techPrefix ?? '',
          b.enabled ?? true,
          b.authUsername ?? null,
          b.authPassword ?? null,
        ],
      );
      await this.notify('gateways', carrierId);
      return rows[0]!;
    } catch (err) {
      throw pgError(err);
    }
  }

  async removeGateway(gatewayId: number): Promise<void> {
    const { rowCount } = await this.pool.query('delete from gateways where id = $1', [gatewayId]);
    if (!rowCount) throw new AppError('UNKNOWN_GATEWAY');
    await this.notify('gateways');
  }

  async accessNumbers(): Promise<AccessNumber[]> {
    return (await this.pool.query<AccessNumber>('select number, language, description from access_numbers order by number')).rows;
  }

  async putAccessNumber(number: string, b: { language?: string; description?: string }): Promise<AccessNumber> {
    const { rows } = await this.pool.query<AccessNumber>(
      `insert into access_numbers (number, language, description) values ($1, $2, $3)
       on conflict (number) do update set language = excluded.language, description = excluded.description returning number, language, description`,
      [number, b.language ?? 'en', b.description ?? ''],
    );
    await this.notify('access_numbers', number);
    return rows[0]!;
  }

  async removeAccessNumber(number: string): Promise<void> {
    const { rowCount } = await this.pool.query('delete from access_numbers where number = $1', [number]);
    if (!rowCount) throw new AppError('UNKNOWN_NUMBER');
    await this.notify('access_numbers', number);
  }

  async dids(accountId?: number): Promise<Did[]> {
    return (await this.pool.query<Did>(`select ${DID} from dids where ($1::bigint is null or account_id = $1) order by number`, [accountId ?? null])).rows;
  }

  /** Assigns a personal number to an open account (and optionally one of its SIP usernames); returns the DID and its account. */
  async assignDid(number: string, accountId: number, sipUsername: string | null): Promise<{ did: Did; account: Account }> {
    const account = await this.accounts.get(accountId);
    if (account.status === 'closed') throw new AppError('ACCOUNT_CLOSED');
    const { rows } = await this.pool.query<Did>(
      `insert into dids (number, account_id, sip_username) values ($1, $2, $3)
       on conflict (number) do update set account_id = excluded.account_id, sip_username = excluded.sip_username returning ${DID}`,
      [number, account.id, sipUsername],
    );
    await this.notify('dids', number);
    return { did: rows[0]!, account };
  }

  async releaseDid(number: string): Promise<void> {
    const { rowCount } = await this.pool.query('delete from dids where number = $1', [number]);
    if (!rowCount) throw new AppError('UNKNOWN_NUMBER');
    await this.notify('dids', number);
  }
}
