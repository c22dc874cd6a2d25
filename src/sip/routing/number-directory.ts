import type pg from 'pg';
import { RefreshingCache } from '../../common/refreshing-cache.ts';

export interface AccessNumber {
  number: string;
  language: string;
}
export interface PersonalNumber {
  accountId: number;
  sipUsername: string | null;
}
export interface DeviceUser {
  username: string;
  realm: string;
}
/** A subscriber named by one of their SIP usernames (`sipUsername` set) or by their account number (null: all their devices). */
export interface Subscriber {
  accountId: number;
  sipUsername: string | null;
}

/**
 * The numbers carriers deliver to us: access numbers (to the IVR) and personal numbers (DIDs, to
 * an account's devices), and the SIP users a personal number rings. All are read from Postgres
 * at most every `cacheMs` per key, and the last good answer keeps routing calls while Postgres is
 * unreachable.
 */
export class NumberDirectory {
  private readonly access: RefreshingCache<'all', Map<string, AccessNumber>>;
  private readonly dids: RefreshingCache<string, PersonalNumber | undefined>;
  private readonly devices: RefreshingCache<string, DeviceUser[]>;
  private readonly subscribers: RefreshingCache<string, Subscriber | undefined>;

  constructor(
    private readonly pool: pg.Pool,
    opts: { cacheMs: number; now?: () => number },
  ) {
    this.access = new RefreshingCache(
      async () => {
        const { rows } = await pool.query<AccessNumber>('select number, language from access_numbers');
        return new Map(rows.map((r) => [r.number, r]));
      },
      { ttlMs: opts.cacheMs, now: opts.now },
    );
    this.dids = new RefreshingCache(
      async (number) => {
        const { rows } = await pool.query<PersonalNumber>('select account_id as "accountId", sip_username as "sipUsername" from dids where number = $1', [
          number,
        ]);
        return rows[0];
      },
      { ttlMs: opts.cacheMs, now: opts.now },
    );
    this.devices = new RefreshingCache(
      async (key) => {
        const [accountId, sipUsername] = JSON.parse(key) as [number, string | null];
        const { rows } = await pool.query<DeviceUser>(
          'select username, realm from sip_credentials where account_id = $1 and ($2::text is null or username = $2)',
          [accountId, sipUsername],
        );
        return rows;
      },
      { ttlMs: opts.cacheMs, now: opts.now },
    );
    this.subscribers = new RefreshingCache(
      async (name) => {
        // a SIP username first (exact), then an account number (digits only); closed accounts are nobody
        const { rows } = await pool.query<Subscriber & { byUsername: boolean }>(
          `select * from (
             select c.account_id as "accountId", c.username as "sipUsername", true as "byUsername"
               from sip_credentials c join accounts a on a.id = c.account_id
              where c.username = $1 and a.status <> 'closed'
             union all
             select id, null, false from accounts where number = $1 and status <> 'closed'
           ) s order by "byUsername" desc limit 1`,
          [name],
        );
        const r = rows[0];
        return r && { accountId: Number(r.accountId), sipUsername: r.sipUsername };
      },
      { ttlMs: opts.cacheMs, now: opts.now },
    );
  }

  /** Drops the cached access numbers, personal numbers and their devices (an operator change). */
  invalidate(): void {
    this.access.clear();
    this.dids.clear();
    this.devices.clear();
    this.subscribers.clear();
  }

  /**
   * The subscriber `name` stands for when dialled: a SIP username (exactly as written) or else an
   * account number; undefined when it is neither (see device-call-type.ts for when it is asked).
   */
  subscriber(name: string): Promise<Subscriber | undefined> {
    return this.subscribers.get(name);
  }

  /** The access number `e164` (an IVR entry point), if it is one. */
  async accessNumber(e164: string): Promise<AccessNumber | undefined> {
    return (await this.access.get('all')).get(e164);
  }

  /** The account a personal number `e164` belongs to, if any. */
  personalNumber(e164: string): Promise<PersonalNumber | undefined> {
    return this.dids.get(e164);
  }

  /** A personal number of `accountId` (the lowest, when it has several), for the caller ID of its on-net calls. */
  async personalNumberOf(accountId: number): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ number: string }>('select number from dids where account_id = $1 order by number limit 1', [accountId]);
    return rows[0]?.number;
  }

  /** The SIP users a personal number of `accountId` rings: the one it names, or all the account's. */
  devicesOf(accountId: number, sipUsername: string | null): Promise<DeviceUser[]> {
    return this.devices.get(JSON.stringify([accountId, sipUsername]));
  }
}
