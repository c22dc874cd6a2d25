import { uriUser } from './sip-address.ts';

/** User part of a SIP/tel Request-URI (the dialled number), or undefined. */
export function userOf(uri: string): string | undefined {
  return uriUser(uri);
}
