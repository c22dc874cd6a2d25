import type pg from 'pg';
import { AppError } from '../errors.ts';

/**
 * Speed dials: up to 99 per account, each a name and the number it stands for. The number is
 * kept as the destination the account's dialling plan reads it as (E.164 digits, no '+'), so a
 * speed-dialled call is screened, rated, routed and recorded exactly as that number keyed in full.
 * The reading of a dialled number belongs to the SIP app (src/sip/call/dialled-number.ts); the
 * composition roots hand it in as `normalise`.
 */
export interface SpeedDial {
  position: number;
  name: string;
  /** E.164 digits without '+'. */
  number: string;
  updatedAt: Date;
}

/** A dialled string as the account's country reads it: the destination (E.164 digits), or undefined when it is none. */
export type NumberReader = (dialled: string, country: string) => string | undefined;

export const SPEED_DIAL_MIN = 1;
export const SPEED_DIAL_MAX = 99;
export const SPEED_DIAL_NAME_MAX = 40;

const ROW = 'position, name, number, updated_at as "updatedAt"';

/** A position as keyed or written (`7`, `07`): 1–99, or undefined. */
export function speedDialPosition(s: string): number | undefined {
  if (!/^[0-9]{1,2}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= SPEED_DIAL_MIN && n <= SPEED_DIAL_MAX ? n : undefined;
}

/** The position a device dialled (`<prefix><n>`, e.g. `*7`), or undefined when the string is no speed dial. */
export function speedDialDialled(dialled: string, prefix: string): number | undefined {
  if (prefix === '' || !dialled.startsWith(prefix)) return undefined;
  return speedDialPosition(dialled.slice(prefix.length));
}

export class SpeedDials {
  constructor(
    private readonly pool: pg.Pool,
    private readonly normalise: NumberReader,
  ) {}

  async list(accountId: number): Promise<SpeedDial[]> {
    const { rows } = await this.pool.query<SpeedDial>(`select ${ROW} from speed_dials where account_id = $1 order by position`, [accountId]);
    return rows;
  }

  async get(accountId: number, position: number): Promise<SpeedDial | undefined> {
    const { rows } = await this.pool.query<SpeedDial>(`select ${ROW} from speed_dials where account_id = $1 and position = $2`, [accountId, position]);
    return rows[0];
  }

  /** Sets (or replaces) the speed dial at `position`; the number is read with the account's dialling plan. */
  async set(account: { id: number; country: string }, position: number, name: string, dialled: string): Promise<SpeedDial> {
    const label = name.trim();
    if (!Number.isInteger(position) || position < SPEED_DIAL_MIN || position > SPEED_DIAL_MAX) throw new AppError('INVALID_SPEED_DIAL', 'position is 1 to 99');
    if (label.length < 1 || label.length > SPEED_DIAL_NAME_MAX) throw new AppError('INVALID_SPEED_DIAL', 'the name is 1 to 40 characters');
    if (/[\p{Cc}\p{Cf}]/u.test(label)) throw new AppError('INVALID_SPEED_DIAL', 'the name holds control characters');
    const number = this.normalise(dialled, account.country);
    if (number === undefined)
      throw new AppError('INVALID_SPEED_DIAL', 'the number cannot be dialled (write it as you would dial it, or with + and the country code)');
    const { rows } = await this.pool.query<SpeedDial>(
      `insert into speed_dials (account_id, position, name, number) values ($1, $2, $3, $4)
       on conflict (account_id, position) do update set name = excluded.name, number = excluded.number, updated_at = now()
       returning ${ROW}`,
      [account.id, position, label, number],
    );
    return rows[0]!;
  }

  /** Removes the speed dial at `position`; false when there was none. */
  async remove(accountId: number, position: number): Promise<boolean> {
    const r = await this.pool.query('delete from speed_dials where account_id = $1 and position = $2', [accountId, position]);
    return (r.rowCount ?? 0) > 0;
  }
}
