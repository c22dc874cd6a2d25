/**
 * The SIP application on drachtio-srf. It never speaks SIP on a socket: the SIP server
 * (drachtio-server in production, the embedded edge otherwise) does. Its collaborators are built
 * by composeSipApp (compose.ts, called from the entry point); this module only mounts the
 * middleware lists per verb, which read as the call flows:
 *
 *   REGISTER: refuse oversized → refuse scanners → refuse banned sources → registrar (digest 401, bindings)
 *   INVITE:   refuse oversized → refuse scanners → refuse banned sources → admit (503 while draining)
 *             → require Call-ID → classify (device | access number | personal number, by carrier address)
 *             → refuse access numbers off carriers → accept (the call type's own refusals)
 *             → authenticate (device calls: digest 407) → rate (count; account's calls per second)
 *             → route (the call type: outbound prepaid call | IVR in the media server | fork to devices)
 *   OPTIONS:  200 (keep-alive)
 *   failures: Redis or Postgres unreachable → 503 with Retry-After; a bug → 500
 */
import type { RedisClient } from '../common/redis-connection.ts';
import { acceptCall } from './invite/accept-call.ts';
import { authenticateCaller } from './invite/authenticate-caller.ts';
import { classifyInvite } from './invite/classify-invite.ts';
import { rateCalls } from './invite/rate-calls.ts';
import { listenForRoutingChanges } from './routing/routing-changes.ts';
import { refuseAccessNumberOffCarrier } from './invite/refuse-access-number-off-carrier.ts';
import { requireCallId } from './invite/require-call-id.ts';
import { routeCall } from './invite/route-call.ts';
import { answerMiddlewareFailures } from './dependency-failure.ts';
import { refuseBannedSources } from './guards/auth-failure-guard.ts';
import { refuseScanners } from './guards/scanner-guard.ts';
import { DEFAULT_MAX_HEADER_BYTES, refuseOversized } from './guards/size-guard.ts';
import { parseSipCommand, sipCommandsChannel } from './sip-commands.ts';
import type { SipComponents, SipErrorMiddleware } from './compose.ts';
import type { SipMiddleware, SipRequest } from './sip-types.ts';
import { clientAddress, identifyClient, trustedProxyList } from './guards/client-address.ts';

export { composeSipApp } from './compose.ts';
export type { SipAppDeps, SipComponents, SipSettings } from './compose.ts';
export type { CallEvents } from './call-events.ts';
export { userOf } from './sip-uri.ts';

/** OPTIONS keep-alives (from the SIP server, a load balancer or a carrier) are answered 200. */
const answerKeepAlive: SipMiddleware = (_req, res) => {
  res.send(200);
};

export function createSipApp(c: SipComponents) {
  const { settings: s, log, srf, control, outbound, media, reaper, admission, callTypes } = c;
  const onRefused = (req: SipRequest, why: string) => log.info({ source: clientAddress(req), why }, 'request refused by a guard');
  // the SIP server connection, lost since `since`: after SIP_SERVER_LOST_SECONDS its calls are given up (CallControl.serverLost)
  let lost: { since: number; timer: NodeJS.Timeout } | undefined;
  let stopped = false;
  const guards: SipMiddleware[] = [
    identifyClient(s.trustedProxies?.length ? trustedProxyList(s.trustedProxies) : undefined),
    refuseOversized(s.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES, onRefused),
    refuseScanners(c.scanners, { action: s.guards.action, onRefused }),
    refuseBannedSources(c.failures, { action: s.guards.action, onRefused }),
  ];
  // a step that could not reach Redis passes its error on: the same answer instead of drachtio-srf's default 500
  const onFailure: SipErrorMiddleware = answerMiddlewareFailures(log);

  srf.use('register', [...guards, c.registrar, onFailure]);
  srf.use('invite', [
    ...guards,
    admission.middleware,
    requireCallId(log),
    classifyInvite(c.numbers, log),
    refuseAccessNumberOffCarrier(log),
    acceptCall(callTypes, log),
    authenticateCaller(callTypes, log),
    rateCalls(c.rate, log),
    routeCall(callTypes, log),
    onFailure,
  ]);
  srf.use('options', [answerKeepAlive]);

  return {
    srf,
    bindings: c.bindings,
    carriers: c.carriers,
    blocklist: c.blocklist,
    /** The IVR's media server (when one was given). */
    media,
    /** Connects to the SIP server; drachtio-srf reconnects by itself when the connection drops. */
    connect(): Promise<void> {
      return new Promise((resolve, reject) => {
        const onError = (err: Error) => {
          srf.removeListener('connect', onConnect);
          reject(err);
        };
        const onConnect = () => {
          srf.removeListener('error', onError);
          log.info({ server: `${s.drachtio.host}:${s.drachtio.port}` }, 'connected to the SIP server');
          resolve();
        };
        srf.once('connect', onConnect);
        srf.once('error', onError);
        // every later 'connect' is drachtio-srf's reconnect: the server may have restarted and lost our dialogs
        let connectedBefore = false;
        srf.on('close', () => {
          // no reaper passes and no new calls' legs through a server this process is not connected to
          c.server.current = undefined;
          if (lost !== undefined || stopped || c.serverLostMs === undefined || !connectedBefore) return;
          const since = Date.now();
          log.warn({ giveUpAfterSeconds: c.serverLostMs / 1000 }, 'connection to the SIP server lost');
          lost = {
            since,
            // (kept until the next connect, so that each reconnection attempt's 'close' does not start another wait)
            timer: setTimeout(() => {
              control.serverLost(since, log);
            }, c.serverLostMs),
          };
          lost.timer.unref();
        });
        srf.on('connect', (_err: unknown, hostport: unknown) => {
          if (lost !== undefined) {
            clearTimeout(lost.timer);
            lost = undefined;
          }
          if (typeof hostport === 'string' && hostport !== '') c.server.current = hostport;
          if (connectedBefore) {
            log.info('reconnected to the SIP server; checking the calls in progress');
            void control.checkAfterReconnect(log).catch((err: Error) => log.warn({ err: err.message }, 'checking calls after a reconnect failed'));
          }
          connectedBefore = true;
        });
        srf.connect({ host: s.drachtio.host, port: s.drachtio.port, secret: s.drachtio.secret });
        reaper?.start();
        c.gatewayHealth?.start();
        c.callbacks?.start();
        srf.on('error', (err: Error) => log.warn({ err: err.message }, 'SIP server connection error'));
      });
    },
    /** Hang-up commands from the API (Redis pub/sub); every instance listens, the one holding the call acts. */
    async listenForCommands(subscriber: RedisClient): Promise<void> {
      const channel = sipCommandsChannel(s.namespace);
      subscriber.on('message', (ch: string, message: string) => {
        if (ch !== channel) return;
        const cmd = parseSipCommand(message);
        if (!cmd) {
          log.warn({ channel }, 'unknown SIP command ignored');
          return;
        }
        const done = outbound.hangup(cmd.callId, cmd.accountId);
        if (done) log.info({ callId: cmd.callId, accountId: cmd.accountId, requestedBy: cmd.requestedBy }, 'call hung up on request');
      });
      await subscriber.subscribe(channel);
    },
    /** Operator changes to routing data (Redis pub/sub): every instance drops the cached copies at once. */
    listenForChanges(subscriber: RedisClient): Promise<void> {
      return listenForRoutingChanges(subscriber, s.namespace, c.routingCaches, log.child({ component: 'sip.routing' }));
    },
    /**
     * Stops taking calls (new INVITEs get 503 with Retry-After, so that the SIP server or the caller
     * tries elsewhere) and lets those in progress finish; at the deadline the rest are hung up
     * (BYE to both legs) and settled. Resolves with how many had to be cut.
     */
    async drain(deadlineMs: number): Promise<{ cut: number }> {
      admission.drain();
      const busy = () => control.liveCount > 0 || admission.inflight > 0;
      const until = Date.now() + deadlineMs;
      while (busy() && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      const cut = control.hangupAll();
      const settleUntil = Date.now() + 5000;
      while (busy() && Date.now() < settleUntil) await new Promise((r) => setTimeout(r, 50));
      if (cut > 0) log.warn({ cut }, 'calls still up at the shutdown deadline were hung up and settled');
      return { cut };
    },
    get callsInProgress(): number {
      return control.liveCount + admission.inflight;
    },
    /** The ending of other processes' orphaned calls (when durability is on), for tests and operations. */
    reaper,
    /** Stops reading callback requests; resolves once the read in progress returned (before its connection is closed). */
    stopCallbacks(): Promise<void> {
      return c.callbacks?.stop() ?? Promise.resolve();
    },
    stop(): void {
      stopped = true;
      clearTimeout(lost?.timer);
      reaper?.stop();
      c.gatewayHealth?.stop();
      void c.callbacks?.stop();
      control.stop();
      // drachtio-srf throws when the connection is down (reconnecting): there is nothing to close then
      try {
        srf.disconnect();
      } catch {
        /* not connected */
      }
      void media?.close();
    },
  };
}
