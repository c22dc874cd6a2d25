/**
 * The same-run reference for the SIP app's CPU per call: a bare drachtio-srf B2BUA with the same
 * SIP message flow as a device call and none of the project's work. INVITE without
 * Proxy-Authorization → 407 with a fixed digest challenge; with it → createB2BUA to the carrier
 * (credentials not checked, nothing in Redis or Postgres, no logging); either leg's BYE ends the
 * other. What it costs per call is drachtio-srf's own floor for this call flow on this machine.
 * Usage: tsx scripts/bench/lib/bare-b2bua-app.ts <adminHost> <adminPort> <secret> <carrierUri>
 */
import Srf from 'drachtio-srf';

const [host = '127.0.0.1', port = '9022', secret = 'admin', carrier = 'sip:127.0.0.3:5060'] = process.argv.slice(2);
interface Dialog {
  on(e: 'destroy', cb: () => void): void;
  destroy(): Promise<unknown>;
}
interface Req {
  get(name: string): string | undefined;
  uri: string;
}
interface Res {
  send(status: number, reason?: string, opts?: Record<string, unknown>): void;
}
const srf = new Srf() as unknown as {
  connect(o: Record<string, unknown>): void;
  on(e: string, cb: (...a: unknown[]) => void): void;
  invite(h: (req: Req, res: Res) => void): void;
  createB2BUA(req: Req, res: Res, uri: string, o: Record<string, unknown>): Promise<{ uas: Dialog; uac: Dialog }>;
};
const CHALLENGE = 'Digest realm="bench.sip", nonce="0123456789abcdef0123456789abcdef", qop="auth", algorithm=MD5';
srf.invite((req, res) => {
  if (req.get('Proxy-Authorization') === undefined) {
    res.send(407, 'Proxy Authentication Required', { headers: { 'Proxy-Authenticate': CHALLENGE } });
    return;
  }
  const user = /^sips?:([^@;]+)@/.exec(req.uri)?.[1] ?? '';
  srf
    .createB2BUA(req, res, carrier.replace('sip:', `sip:${user}@`), { passFailure: false, proxyRequestHeaders: ['User-Agent'] })
    .then(({ uas, uac }) => {
      uas.on('destroy', () => void uac.destroy().catch(() => undefined));
      uac.on('destroy', () => void uas.destroy().catch(() => undefined));
    })
    .catch(() => undefined);
});
srf.on('connect', (err) => {
  if (err) {
    process.stderr.write(`connect failed: ${String(err)}\n`);
    process.exit(1);
  }
  process.stdout.write('app-ready\n');
});
srf.on('error', () => undefined);
srf.connect({ host, port: Number(port), secret });
