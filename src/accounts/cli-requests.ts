import type pg from 'pg';
import { AppError } from '../errors.ts';
import type { AccountService } from './account-service.ts';
import { isE164 } from './e164.ts';

/**
 * Caller IDs a customer asks to use for PIN-less calls. Confirmation is by operator approval:
 * the request waits here (it authorises nothing) until an operator approves it, which adds the
 * CLI to authorised_clis as verified, or rejects it. Customers may withdraw a pending request.
 */
export interface CliRequest { id: number; accountId: number; cli: string; requestedAt: Date; decision: string | null; decidedAt: Date | null }

const ROW = 'id, account_id as "accountId", cli, requested_at as "requestedAt", decision, decided_at as "decidedAt"';

export class CliRequests {
  constructor(private readonly pool: pg.Pool, private readonly accounts: AccountService) {}

  async request(accountId: number, cli: string): Promise<CliRequest> {
    if (!isE164(cli)) throw new AppError('INVALID_CLI');
    const owner = await this.accounts.findAccountByCli(cli);
    if (owner !== undefined) throw new AppError(owner === accountId ? 'ALREADY_EXISTS' : 'CLI_TAKEN');
    try {
      const { rows } = await this.pool.query<CliRequest>(`insert into cli_requests (account_id, cli) values ($1, $2) returning ${ROW}`, [accountId, cli]);
      return rows[0]!;
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw new AppError('ALREADY_EXISTS', 'that caller ID is already awaiting approval');
      throw err;
    }
  }

  async pending(q: { accountId?: number; after?: number; limit: number }): Promise<CliRequest[]> {
    const { rows } = await this.pool.query<CliRequest>(
      `select ${ROW} from cli_requests where decision is null and id > $1 and ($2::bigint is null or account_id = $2) order by id limit $3`,
      [q.after ?? 0, q.accountId ?? null, q.limit]);
    return rows;
  }

  /** Approves or rejects a pending request; approval authorises the CLI (verified) in the same transaction. */
  async decide(id: number, decision: 'approved' | 'rejected', actor: string): Promise<CliRequest> {
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const { rows } = await client.query<CliRequest>(
        `update cli_requests set decision = $2, decided_at = now(), decided_by = $3 where id = $1 and decision is null returning ${ROW}`, [id, decision, actor]);
      const r = rows[0];
      if (!r) throw new AppError('UNKNOWN_CLI_REQUEST');
      if (decision === 'approved') {
        try {
          await client.query('savepoint cli');
          await client.query('insert into authorised_clis (cli, account_id, verified_at) values ($1, $2, now())', [r.cli, r.accountId]);
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
      `update cli_requests set decision = 'withdrawn', decided_at = now(), decided_by = 'customer' where account_id = $1 and cli = $2 and decision is null`, [accountId, cli]);
    return (rowCount ?? 0) > 0;
  }

  async ofAccount(accountId: number): Promise<CliRequest[]> {
    const { rows } = await this.pool.query<CliRequest>(`select ${ROW} from cli_requests where account_id = $1 and decision is null order by id`, [accountId]);
    return rows;
  }
}
