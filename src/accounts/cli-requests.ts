import type pg from 'pg';
import { AppError } from '../errors.ts';
import type { CallerIds } from './account-ports.ts';
import { isE164 } from './e164.ts';

/**
 * Caller IDs a customer asks to use for PIN-less calls. A request waits here and authorises
 * nothing until it is confirmed:
 *
 *   origin self_care  (POST /v1/self/clis)       an operator approves it (or rejects it)
 *   origin ivr        (press 1 after a PIN login) the customer confirms it in self-care, with the
 *                     password: a PIN alone (perhaps leaked) cannot make itself permanent
 *
 * Asking never reveals whether another account holds the number: the answer is the same either
 * way. If two accounts claim one number, the first confirmed holds it; a later confirmation is
 * left for an operator (who is told, CLI_TAKEN). Caller IDs confirmed from the IVR are revoked with
 * the PIN (AccountService.issuePin / revokeCredentials). Customers may withdraw a pending request.
 */
export type CliOrigin = 'self_care' | 'ivr';
export interface CliRequest {
  id: number;
  accountId: number;
  cli: string;
  origin: CliOrigin;
  requestedAt: Date;
  decision: string | null;
  decidedAt: Date | null;
}

const ROW = 'id, account_id as "accountId", cli, origin, requested_at as "requestedAt", decision, decided_at as "decidedAt"';

export class CliRequests {
  constructor(
    private readonly pool: pg.Pool,
    private readonly accounts: Pick<CallerIds, 'listClis'>,
  ) {}

  async request(accountId: number, cli: string, origin: CliOrigin = 'self_care'): Promise<CliRequest> {
    if (!isE164(cli)) throw new AppError('INVALID_CLI');
    // only the account's own caller IDs are looked at: whether another account holds it is never said
    if ((await this.accounts.listClis(accountId)).some((c) => c.cli === cli)) throw new AppError('ALREADY_EXISTS', 'that caller ID is already yours');
    try {
      const { rows } = await this.pool.query<CliRequest>(`insert into cli_requests (account_id, cli, origin) values ($1, $2, $3) returning ${ROW}`, [
        accountId,
        cli,
        origin,
      ]);
      return rows[0]!;
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw new AppError('ALREADY_EXISTS', 'that caller ID is already awaiting approval');
      throw err;
    }
  }

  /**
   * The customer confirms a caller ID registered at the IVR: it is authorised now if no other
   * account holds it; otherwise it stays pending for an operator, and the customer is told only that.
   */
  async confirm(accountId: number, cli: string): Promise<'authorised' | 'pending_approval'> {
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const { rows } = await client.query<CliRequest>(
        `select ${ROW} from cli_requests where account_id = $1 and cli = $2 and origin = 'ivr' and decision is null for update`,
        [accountId, cli],
      );
      const r = rows[0];
      if (!r) throw new AppError('UNKNOWN_CLI_REQUEST', 'no caller ID registered at the access number awaits confirmation');
      const inserted = await client.query(
        `insert into authorised_clis (cli, account_id, verified_at, origin) values ($1, $2, now(), 'ivr') on conflict (cli) do nothing`,
        [cli, accountId],
      );
      if (inserted.rowCount === 0) {
        await client.query('commit');
        return 'pending_approval';
      }
      await client.query(`update cli_requests set decision = 'approved', decided_at = now(), decided_by = 'customer' where id = $1`, [r.id]);
      await client.query('commit');
      return 'authorised';
    } catch (err) {
      await client.query('rollback');
      throw err;
    } finally {
      client.release();
    }
  }

  async pending(q: { accountId?: number; after?: number; limit: number }): Promise<CliRequest[]> {
    const { rows } = await this.pool.query<CliRequest>(
      `select ${ROW} from cli_requests where decision is null and id > $1 and ($2::bigint is null or account_id = $2) order by id limit $3`,
      [q.after ?? 0, q.accountId ?? null, q.limit],
    );
    return rows;
  }

  /** Approves or rejects a pending request; approval authorises the CLI (verified) in the same transaction. */
  async decide(id: number, decision: 'approved' | 'rejected', actor: string): Promise<CliRequest> {
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const { rows } = await client.query<CliRequest>(
        `update cli_requests set decision = $2, decided_at = now(), decided_by = $3 where id = $1 and decision is null returning ${ROW}`,
        [id, decision, actor],
      );
      const r = rows[0];
      if (!r) throw new AppError('UNKNOWN_CLI_REQUEST');
      if (decision === 'approved') {
        try {
          await client.query('savepoint cli');
          await client.query('insert into authorised_clis (cli, account_id, verified_at, origin) values ($1, $2, now(), $3)', [r.cli, r.accountId, r.origin]);
        } catch (err) {
          if ((err as { code?: string }).code === '23505') throw new AppError('CLI_TAKEN');
          throw err;
        }
      }
      await client.query('commit');
      return r;
    } catch (err) {
      await client.query('rollback');
      throw err;
    } finally {
      client.release();
    }
  }

  async withdraw(accountId: number, cli: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `update cli_requests set decision = 'withdrawn', decided_at = now(), decided_by = 'customer' where account_id = $1 and cli = $2 and decision is null`,
      [accountId, cli],
    );
    return (rowCount ?? 0) > 0;
  }

  async ofAccount(accountId: number): Promise<CliRequest[]> {
    const { rows } = await this.pool.query<CliRequest>(`select ${ROW} from cli_requests where account_id = $1 and decision is null order by id`, [accountId]);
    return rows;
  }
}
