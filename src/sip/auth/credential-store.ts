import type { DigestAlgorithm } from './digest-algorithm.ts';

/** The port the digest authenticator reads SIP credentials through: HA1 digests only, never a password. */
export interface SipCredentials {
  readonly accountId: number;
  readonly ha1Md5: string;
  readonly ha1Sha256: string;
  /** The device's challenge as set by the operator or the customer (undefined: automatic). */
  readonly digestAlgorithms?: readonly DigestAlgorithm[];
}

export interface CredentialStore {
  findCredentials(username: string, realm: string): Promise<SipCredentials | undefined>;
}
