/**
 * What `npm start` prints once the demo account exists: the logins, and a first call that works
 * as printed (a demo destination the demo tariff rates, the test carrier, the device, the CDR to
 * expect). Printed only when the account API answers, so every URL in it works when it is read.
 */
import type { DemoResult } from './demo-seed.ts';
import { DEMO } from './demo-seed.ts';

/** The demo's first call: a UK number the demo tariff rates at 0.015 GBP a minute, billed per minute. */
export const FIRST_CALL = {
  dialled: '441632960001',
  ratePrefix: '44',
  /** One started minute at 0.015 GBP, in micro-units. */
  cost: 15_000,
  deviceSipPort: 5070,
  talkMs: 5000,
} as const;

export interface BannerSettings {
  apiHost: string;
  apiPort: number;
  httpHost: string;
  httpPort: number;
  sipRealm: string;
  /** host:port devices send SIP to. */
  sip: string;
  /** PAYMENT_PROVIDER: with `test` (npm start) the order page works without charging anyone. */
  paymentProvider?: string;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The test carrier: a sipp UAS on the demo carrier's gateway address, answering every call (-aa: and the gateway probes' OPTIONS). */
export function carrierCommand(): string {
  return `sipp -sn uas -aa -i ${DEMO.carrier.address} -p ${DEMO.carrier.port}`;
}

/** The demo device: sipp dials FIRST_CALL.dialled with the demo SIP credentials (digest MD5), talks 5 s, hangs up. */
export function deviceCommand(sip: string, sipPassword: string): string {
  const host = sip.split(':')[0]!;
  return [
    'sipp -sf test/sipp/app/device-call.xml',
    `-s ${FIRST_CALL.dialled} -au ${DEMO.sipUsername} -ap ${q(sipPassword)} -key user ${DEMO.sipUsername}`,
    `-auth_uri ${FIRST_CALL.dialled}@${sip} -i ${host} -p ${FIRST_CALL.deviceSipPort} -m 1 -d ${FIRST_CALL.talkMs} ${sip}`,
  ].join(' ');
}

export function bannerLines(d: DemoResult, s: BannerSettings): string[] {
  const api = `http://${s.apiHost}:${s.apiPort}`;
  const key = d.apiKey ?? '$KEY';
  const lines = d.created
    ? [
        `Demo account ${DEMO.accountNumber} created (id ${d.accountId}), balance 10.00 GBP. Shown once, note them:`,
        `  self-care login:  ${DEMO.username} / ${d.password}`,
        `  PIN:              ${d.pin}`,
        `  caller ID registered for PIN-less calls: ${DEMO.cli}`,
        `  SIP device:       ${DEMO.sipUsername} / ${d.sipPassword}  (realm ${s.sipRealm}; register to sip:${s.sip}, UDP or TCP)`,
        `  access number:    ${DEMO.accessNumber} (from the demo carrier ${DEMO.carrier.address})`,
        `  operator API key: ${d.apiKey}`,
        `  live balance:     curl -s -H "Authorization: Bearer ${key}" ${api}/v1/accounts/${d.accountId}/balance`,
        `  top up 5.00:      curl -s -X POST -H "Authorization: Bearer ${key}" -H 'Content-Type: application/json' -H 'Idempotency-Key: try-1' -d '{"amount":5000000}' ${api}/v1/accounts/${d.accountId}/topups`,
        '',
        `First call (README "Your first call"): +${FIRST_CALL.dialled}, rated by the demo tariff (prefix ${FIRST_CALL.ratePrefix}, 0.015 GBP/min, per minute)`,
        `  1. the test carrier, in a second terminal:  ${carrierCommand()}`,
        `  2. the demo device calls it, in a third:    ${deviceCommand(s.sip, d.sipPassword ?? '<SIP password>')}`,
        `  3. the CDR: disposition answered, destination ${FIRST_CALL.dialled}, ratePrefix ${FIRST_CALL.ratePrefix}, billedSeconds 60, cost ${FIRST_CALL.cost} (micro-units):`,
        `     curl -s -H "Authorization: Bearer ${key}" '${api}/v1/cdrs?accountId=${d.accountId}'`,
      ]
    : [
        `Demo account ${DEMO.accountNumber} exists (id ${d.accountId}); its PIN, passwords and API key were shown when it was created.`,
        `  new API key: npm run -s cli -- api-key create mine billing`,
        `  first call: README "Your first call" (${carrierCommand()}, then the demo device dials +${FIRST_CALL.dialled})`,
      ];
  return [
    ...lines,
    `  customer pages:    ${api}/my   operator console: ${api}/console (log in with an API key)`,
    ...(s.paymentProvider === 'test'
      ? [`  order a demo account: ${api}/order (test payment provider: nobody is charged; the welcome mail lands in .data/mail)`]
      : []),
    `  API documentation: ${api}/docs`,
    `  SIP application health (port ${s.httpPort}): curl -s http://${s.httpHost}:${s.httpPort}/ready`,
  ];
}

/**
 * Resolves true once `url` answers any HTTP response, false after `timeoutMs` (polling every
 * `intervalMs`); never throws.
 */
export async function whenAnswering(url: string, timeoutMs: number, intervalMs = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(Math.max(100, Math.min(2000, deadline - Date.now()))) });
      await r.body?.cancel();
      return true;
    } catch {
      if (Date.now() + intervalMs > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}
