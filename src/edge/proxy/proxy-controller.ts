/**
 * Spec §7 and §4.2 steps 4–5: everything the edge does as a proxy.
 *
 *   - `proxy` commands: the pending request is taken over by a {@link ProxyCore} (stateful);
 *   - a CANCEL for a proxied INVITE: 200 to the CANCEL, 487 upstream, CANCEL downstream;
 *   - requests inside a dialog the edge record-routed (top Route is us, with `lr`, and a To-tag)
 *     and the ACK of its 2xx: forwarded statelessly to the next Route or the Request-URI, never
 *     delivered to an app (RFC 3261 §16.11, as the reference's processRequestWithRouteHeader);
 *   - responses to those requests: our Via removed, sent on where the next Via says.
 */
import { createHash } from 'node:crypto';
import { createResponse, generateTag, parseUri, type SipRequest, type SipResponse } from '../message/index.ts';
import type { SourceInfo } from '../transport/index.ts';
import type { ServerTransaction } from '../transaction/index.ts';
import { contactUri } from '../dialog/dialog.ts';
import type { EdgeContext } from '../core/edge-context.ts';
import type { AppConnection } from '../wire/app-connection.ts';
import { failurePayload } from '../wire/server-frames.ts';
import { ChallengeMemory } from './challenge-memory.ts';
import { parseProxyCommand } from './proxy-command.ts';
import { ProxyCore } from './proxy-core.ts';
import { viaTarget, withoutTopVia } from './via-stack.ts';

export class ProxyController {
  /** Live proxy cores by the id of the caller's server transaction (for its CANCEL). */
  private readonly cores = new Map<string, ProxyCore>();
  private readonly challenges: ChallengeMemory;

  constructor(private readonly ctx: EdgeContext) {
    this.challenges = new ChallengeMemory(ctx.clock);
  }

  get size(): number {
    return this.cores.size;
  }

  /** §7: `<msgId>|proxy|<txnId>|<rr>|<full>|<follow>|<fork>|<provTimeout>|<finalTimeout>|<dest…>` */
  async proxy(conn: AppConnection, msgId: string, txnId: string, tokens: readonly string[], body: string): Promise<void> {
    const record = this.ctx.serverRequests.get(txnId);
    if (record === undefined || record.answered || record.transaction.finalSent || record.transaction.terminated) {
      return conn.send(failurePayload(msgId, 'NOK', `Unknown transaction id: ${txnId}`));
    }
    this.ctx.serverRequests.remove(record);
    const { request, transaction } = record;
    const maxForwards = request.maxForwards;
    if (maxForwards !== undefined && maxForwards <= 0) {
      void transaction.respond(createResponse(request, 483, { toTag: generateTag() }));
      return conn.send(failurePayload(msgId, 'NOK', 'Rejected with 483 Too Many Hops due to Max-Forwards value of 0'));
    }
    const parsed = parseProxyCommand(tokens, body);
    // §7 step 2: credentials answering a challenge go to the target that challenged, alone.
    const challenger = this.challenges.targetFor(request);
    const options = challenger === undefined ? parsed : { ...parsed, destinations: [challenger] };
    const core = new ProxyCore(
      this.ctx,
      transaction,
      request,
      conn,
      msgId,
      options,
      () => this.cores.delete(transaction.id),
      (response, target) => this.challenges.remember(response, target),
    );
    this.cores.set(transaction.id, core);
    let started = false;
    try {
      started = await core.start();
    } catch (err) {
      this.ctx.log.error('proxy failed to start', { err: String(err), callId: request.callId });
    }
    // Whatever could not be proxied still gets a final response (500) and the app a NOK.
    if (!started) core.failToStart();
  }

  /** A CANCEL matching a proxied INVITE's server transaction; false when it is not ours. */
  cancel(cancel: SipRequest, cancelTransaction: ServerTransaction, invite: ServerTransaction): boolean {
    const core = this.cores.get(invite.id);
    if (core === undefined) return false;
    void cancelTransaction.respond(createResponse(cancel, 200, { toTag: generateTag() }));
    core.cancel();
    return true;
  }

  /**
   * §4.2 step 4: a request in a dialog we record-routed. True when it was taken (and is being
   * forwarded); the caller must then do nothing else with it.
   */
  takeRouted(request: SipRequest): boolean {
    if (request.toTag === undefined || !this.routedThroughUs(request)) return false;
    if (this.ctx.dialogs.findForRequest(request) !== undefined) return false;
    void this.forwardStatelessly(request);
    return true;
  }

  /** A response that matched no client transaction: relayed when it carries our Via over another. */
  relayResponse(response: SipResponse, _source: SourceInfo): boolean {
    const vias = response.vias;
    const ours = vias[0];
    const next = vias[1];
    if (ours === undefined || next === undefined) return false;
    if (!this.ctx.resolver.isSelf(`sip:${ours.host}:${ours.port ?? 5060}`)) return false;
    void this.ctx.layer.sendStateless(withoutTopVia(response), viaTarget(next));
    return true;
  }

  private routedThroughUs(request: SipRequest): boolean {
    const first = request.getAll('route')[0];
    if (first === undefined) return false;
    const uri = contactUri(first);
    const parsed = uri === undefined ? undefined : parseUri(uri);
    return parsed !== undefined && parsed.params.has('lr') && uri !== undefined && this.ctx.resolver.isSelf(uri);
  }

  /** RFC 3261 §16.11: pop our Route, decrement Max-Forwards, add a Via, send to the next hop. */
  private async forwardStatelessly(request: SipRequest): Promise<void> {
    const routes = request.getAll('route');
    const maxForwards = request.maxForwards;
    if (maxForwards !== undefined && maxForwards <= 0) {
      if (request.method !== 'ACK') this.ctx.log.debug('routed request dropped: Max-Forwards 0', { callId: request.callId });
      return;
    }
    const copy = request.clone();
    copy.remove('route');
    for (const r of routes.slice(1)) copy.append('Route', r);
    copy.set('Max-Forwards', String((maxForwards ?? 70) - 1));
    const nextRoute = routes[1] === undefined ? undefined : contactUri(routes[1]);
    const nextHop = nextRoute !== undefined && parseUri(nextRoute)?.params.has('lr') === true ? nextRoute : copy.uri;
    const resolved = await this.ctx.resolver.resolve(nextHop);
    if (!resolved.ok) {
      this.ctx.log.debug('routed request not forwarded', { callId: request.callId, method: request.method, reason: resolved.reason });
      return;
    }
    // §16.11: the branch is derived from the incoming one, so retransmissions and the CANCEL of
    // a forwarded INVITE carry the same branch downstream.
    const branch = `z9hG4bK${createHash('sha1')
      .update(request.topVia?.branch ?? request.callId ?? '')
      .digest('hex')
      .slice(0, 24)}`;
    copy.prepend('Via', this.ctx.layer.viaFor(resolved.target, branch));
    await this.ctx.layer.sendStateless(copy, resolved.target);
  }
}
