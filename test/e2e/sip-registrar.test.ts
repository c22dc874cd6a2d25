/**
 * REGISTER through the embedded edge with sipp as the device: digest (good, wrong password,
 * unknown user, stale nonce, replayed nonce), 423 for a too-brief expiry, unregister, several
 * contacts. SHA-256 is exercised with credentials computed here (sipp only knows MD5).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sipHa1 } from '../../src/accounts/secrets.ts';
import { nonceIssuerFor } from '../../src/sip/auth/create-digest-authenticator.ts';
import { digestResponse } from '../../src/sip/auth/digest-algorithm.ts';
import type { DigestAlgorithm } from '../../src/sip/auth/digest-algorithm.ts';
import { REDIS_KINDS } from '../support/services.ts';
import { clean, NONCE_KEY, REALM, SipAppHarness } from '../support/sip-app-harness.ts';
import type { Device } from '../support/sip-app-harness.ts';
import { randomPort } from '../support/edge-apps/ports.ts';

let h: SipAppHarness;

const bindings = (d: Device) => h.sip.bindings.bindingsOf(`${d.username}@${REALM}`);

/** An Authorization header value computed here, with a nonce issued `ageMs` ago by an instance sharing the key. */
function credentials(d: Device, algorithm: DigestAlgorithm, ageMs = 0): string {
  const nonce = nonceIssuerFor(NONCE_KEY, 300_000, () => Date.now() - ageMs).issue(REALM);
  const ha1 = sipHa1(d.username, REALM, d.password);
  const uri = `sip:${h.remote}`;
  const qop = { nc: '00000001', cnonce: 'c0ffee42' };
  const response = digestResponse({ algorithm, ha1: algorithm === 'MD5' ? ha1.md5 : ha1.sha256, method: 'REGISTER', uri, nonce, qop });
  return `Digest username="${d.username}", realm="${REALM}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=${algorithm}, qop=auth, nc=${qop.nc}, cnonce="${qop.cnonce}"`;
}

describe.each(REDIS_KINDS)('on %s Redis', (redis) => {
  beforeAll(async () => {
    h = await SipAppHarness.start('sipregistrar', { redis });
  });
  afterAll(async () => {
    await h.stop();
  });

  describe('registrar', () => {
    it('registers with digest (MD5, challenged 401); the binding records the source address', async () => {
      const d = await h.device(0);
      const port = randomPort();
      clean(await h.run({ scenario: 'register.xml', user: d.username, password: d.password, port }));
      const [b, ...rest] = await bindings(d);
      expect(rest).toEqual([]);
      expect(b).toMatchObject({
        uri: `sip:${d.username}@${h.deviceIp}:${port}`,
        source: { address: h.deviceIp, port, transport: 'udp' },
        accountId: d.account.id,
      });
      expect(b!.expiresAt - Date.now()).toBeGreaterThan(3500_000);
    });

    it('a wrong password gets 403 and no binding', async () => {
      const d = await h.device(0);
      clean(await h.run({ scenario: 'register-refused.xml', user: d.username, password: 'not-the-password', vars: { status: '403' } }));
      expect(await bindings(d)).toEqual([]);
    });

    it('an unknown user gets the same 403', async () => {
      clean(await h.run({ scenario: 'register-refused.xml', user: 'nosuchuser', password: 'whatever-password', vars: { status: '403' } }));
      expect(await h.sip.bindings.bindingsOf(`nosuchuser@${REALM}`)).toEqual([]);
    });

    it('a stale nonce (right password) is challenged again with stale=true', async () => {
      const d = await h.device(0);
      clean(await h.run({ scenario: 'register-stale.xml', user: d.username, keys: { authz: credentials(d, 'SHA-256', 600_000) } }));
      expect(await bindings(d)).toEqual([]);
    });

    it('SHA-256 credentials register; replaying them is refused with stale=true', async () => {
      const d = await h.device(0);
      clean(await h.run({ scenario: 'register-replay.xml', user: d.username, keys: { authz: credentials(d, 'SHA-256') } }));
      expect(await bindings(d)).toHaveLength(1);
    });

    it('a too-brief expiry gets 423 Interval Too Brief', async () => {
      const d = await h.device(0);
      clean(await h.run({ scenario: 'register-refused.xml', user: d.username, password: d.password, keys: { expires: '10' }, vars: { status: '423' } }));
      expect(await bindings(d)).toEqual([]);
    });

    it('Contact: * with Expires: 0 removes every binding', async () => {
      const d = await h.device(0);
      clean(await h.run({ scenario: 'register.xml', user: d.username, password: d.password }));
      expect(await bindings(d)).toHaveLength(1);
      clean(await h.run({ scenario: 'unregister.xml', user: d.username, password: d.password }));
      expect(await bindings(d)).toEqual([]);
    });

    it('several contacts: two in one REGISTER and a third device; all listed', async () => {
      const d = await h.device(0);
      clean(await h.run({ scenario: 'register-two-contacts.xml', user: d.username, password: d.password }));
      clean(await h.run({ scenario: 'register.xml', user: d.username, password: d.password }));
      const all = await bindings(d);
      expect(all).toHaveLength(3);
      expect(new Set(all.map((b) => b.uri)).size).toBe(3);
    });
  });
});
