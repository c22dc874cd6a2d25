/**
 * The benchmark's trivial drachtio-srf app: answers every INVITE with createUAS and a fixed SDP.
 * Usage: tsx scripts/bench/edge-trivial-app.ts <adminHost> <adminPort> <secret>
 */
import Srf from 'drachtio-srf';

const [host = '127.0.0.1', port = '9022', secret = 'admin'] = process.argv.slice(2);
const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
const srf = new Srf() as unknown as {
  connect(o: Record<string, unknown>): void;
  on(e: string, cb: (...a: unknown[]) => void): void;
  invite(h: (req: unknown, res: unknown) => void): void;
  options(h: (req: unknown, res: { send(status: number): void }) => void): void;
  createUAS(req: unknown, res: unknown, o: Record<string, unknown>): Promise<unknown>;
};
srf.invite((req, res) => {
  srf.createUAS(req, res, { localSdp: SDP }).catch(() => undefined);
});
// answers a proxy's health probes as the SIP application does (scripts/bench/kamailio-dispatch.ts)
srf.options((_req, res) => res.send(200));
srf.on('connect', (err) => {
  if (err) {
    process.stderr.write(`connect failed: ${String(err)}\n`);
    process.exit(1);
  }
  process.stdout.write('app-ready\n');
});
srf.on('error', () => undefined);
srf.connect({ host, port: Number(port), secret });
