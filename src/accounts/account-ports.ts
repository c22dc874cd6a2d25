/**
 * The ports AccountService offers, one per kind of consumer, so each consumer is typed against
 * the few methods it uses (and a test double, where one is ever needed, is that small):
 *
 *   AccountLookup        read an account                       privacy, routing data, erasure
 *   AccountProvisioning  customers and accounts, their limits   CLI, API, demo seed, restriction
 *   PinCredentials       PINs                                  CLI, API, demo seed, IVR
 *   CallerIds            caller IDs for PIN-less calls         CLI, API, demo seed, IVR, CLI requests
 *   SipCredentials       SIP usernames and passwords           API, demo seed
 *   CustomerLogins       web self-care logins                  API
 *
 * AccountService implements all of them on one Postgres pool; the composition roots build it
 * once and hand each consumer the port it needs.
 */
import type { Account, AccountStatus, NewAccount, NewCustomer, SipDigestSetting } from './account-service.ts';

export interface AccountLookup {
  get(accountId: number): Promise<Account>;
}

export interface AccountProvisioning extends AccountLookup {
  createCustomer(c: NewCustomer): Promise<number>;
  createAccount(a: NewAccount): Promise<Account>;
  updateAccount(
    accountId: number,
    ch: { tariffId?: string | null; maxConcurrentCalls?: number; dailySpendCap?: number | null; creditFloor?: number },
  ): Promise<Account>;
  setStatus(accountId: number, status: AccountStatus): Promise<Account>;
}

export interface PinCredentials {
  issuePin(accountId: number, pin?: string): Promise<string>;
  revokePin(accountId: number): Promise<boolean>;
  revokeCredentials(accountId: number): Promise<{ pinRevoked: boolean; callerIdsRevoked: number }>;
  pinHistory(accountId: number): Promise<{ createdAt: Date; revokedAt: Date | null }[]>;
  pinMatches(accountId: number, pin: string): Promise<boolean>;
  findAccountByPin(pin: string): Promise<number | undefined>;
}

export interface CallerIds {
  addCli(accountId: number, cli: string, verified?: boolean): Promise<void>;
  removeCli(accountId: number, cli: string): Promise<void>;
  listClis(accountId: number): Promise<{ cli: string; verifiedAt: Date | null; createdAt: Date }[]>;
  findAccountByCli(cli: string): Promise<number | undefined>;
}

export interface SipCredentials {
  setSipPassword(accountId: number, username: string, realm: string, password: string): Promise<void>;
  listSipCredentials(accountId: number): Promise<{ username: string; realm: string; createdAt: Date; digestAlgorithms: SipDigestSetting }[]>;
  setSipDigestAlgorithms(accountId: number, username: string, setting: SipDigestSetting): Promise<void>;
  removeSipCredential(accountId: number, username: string): Promise<void>;
  sipUsernameOwner(username: string, realm: string): Promise<number | undefined>;
}

export interface CustomerLogins {
  verifyLogin(username: string, password: string): Promise<{ accountId: number; customerId: number } | undefined>;
  passwordMatches(accountId: number, password: string): Promise<boolean>;
  setPassword(accountId: number, password: string): Promise<void>;
}

/** Every port: what the account API's routes, taken together, use. */
export type AccountPorts = AccountProvisioning & PinCredentials & CallerIds & SipCredentials & CustomerLogins;
