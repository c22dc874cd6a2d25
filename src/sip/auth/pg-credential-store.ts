/** SIP credentials from Postgres (table sip_credentials, written by AccountService.setSipPassword). */
import type pg from 'pg';
import type { CredentialStore, SipCredentials } from './credential-store.ts';
import { parseDigestAlgorithms } from './digest-offer.ts';

export class PgCredentialStore implements CredentialStore {
  constructor(private readonly pool: pg.Pool) {}

  async findCredentials(username: string, realm: string): Promise<SipCredentials | undefined> {
    const { rows } = await this.pool.query<{ accountId: string; ha1Md5: string; ha1Sha256: string; digestAlgorithms: string | null }>(
      `select c.account_id as "accountId", c.ha1_md5 as "ha1Md5", c.ha1_sha256 as "ha1Sha256", c.digest_algorithms as "digestAlgorithms"
         from sip_credentials c join accounts a on a.id = c.account_id
        where c.username = $1 and c.realm = $2 and a.status <> 'closed'`,
      [username, realm],
    );
    const row = rows[0];
    if (!row) return undefined;
    const algorithms = row.digestAlgorithms === null ? undefined : parseDigestAlgorithms(row.digestAlgorithms);
    return { accountId: Number(row.accountId), ha1Md5: row.ha1Md5, ha1Sha256: row.ha1Sha256, ...(algorithms ? { digestAlgorithms: algorithms } : {}) };
  }
}
