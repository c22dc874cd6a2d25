/**
 * Spec §7: one request the app asked the edge to proxy, as drachtio-server's ProxyCore does it:
 * an RFC 3261 §16 stateful proxy with one server transaction upstream (the caller's, which the
 * edge already holds) and one client transaction per target downstream.
 *
 * Each target (branch) goes through:
 *
 *   not-started ──launch──▶ calling ──1xx──▶ proceeding ──2xx──▶ done (2xx forwarded upstream)
 *        │                    │ │                 │
 *        │                    │ └─provisional timeout / upstream CANCEL (no 1xx yet: nothing to
 *        │                    │   CANCEL; a late 1xx is CANCELled)──▶ abandoned
 *        │                    └──────────────≥300 (ACKed by the ICT)──────▶ failed (kept for §16.7.6)
 *        └──(2xx elsewhere, CANCEL, bad URI, no route, Timer B/F)──────────▶ gone
 *
 * 1xx (not 100) and 2xx are relayed upstream at once; a 2xx ends the search and CANCELs the other
 * branches. Serial forking launches the next target after each failure; simultaneous launches
 * all. With followRedirects, a 3xx's Contacts become new targets right after the one that
 * redirected. When no target is left, the best failure (§16.7.6) goes upstream, or 408 when no
 * target answered. With fullResponse every final response is reported to the app (R9) and the
 * end with `done` (R10).
 */
import { createCancel, createResponse, generateTag, parseUri, type SipRequest, type SipResponse } from '../message/index.ts';
import type { ListenPoint, SourceInfo } from '../transport/index.ts';
import type { ClientTransaction, ClientTransactionUser, ServerTransaction, TimerHandle } from '../transaction/index.ts';
import { contactUri } from '../dialog/dialog.ts';
import type { EdgeContext } from '../core/edge-context.ts';
import { wireHeaderName } from '../core/header-rules.ts';
import type { AppConnection } from '../wire/app-connection.ts';
import { failurePayload, responsePayload, stackTime } from '../wire/server-frames.ts';
import { messageText } from '../core/message-text.ts';
import { bestResponseIndex } from './best-response.ts';
import type { ProxyOptions } from './proxy-command.ts';
import { viaTarget, withoutTopVia } from './via-stack.ts';

type BranchState = 'not-started' | 'calling' | 'proceeding' | 'done' | 'failed' | 'abandoned' | 'gone';

interface Branch {
  readonly target: string;
  state: BranchState;
  transaction: ClientTransaction | undefined;
  final: SipResponse | undefined;
  provisionalTimer: TimerHandle | undefined;
  cancelSent: boolean;
}

const IGNORE: ClientTransactionUser = { onResponse: () => undefined, onTimeout: () => undefined, onTransportError: () => undefined };

export class ProxyCore {
  private readonly branches: Branch[];
  /** Still looking for a target to answer (false after a 2xx, an upstream CANCEL or the best response). */
  private searching = true;
  private cancelled = false;
  private doneSent = false;
  private upstreamFinal = false;

  constructor(
    private readonly ctx: EdgeContext,
    private readonly upstream: ServerTransaction,
    private readonly request: SipRequest,
    private readonly app: AppConnection,
    private readonly appMsgId: string,
    private readonly options: ProxyOptions,
    private readonly onFinished: (core: ProxyCore) => void,
    /** Remembers a 401/407 challenge from a target; true when the response carried one. */
    private readonly rememberChallenge: (response: SipResponse, target: string) => boolean,
  ) {
    this.branches = options.destinations.map((target) => newBranch(target));
  }

  get isInvite(): boolean {
    return this.request.method === 'INVITE';
  }

  /** Launches the first target (serial) or all (simultaneous); false when none could be tried. */
  async start(): Promise<boolean> {
    const started = await this.startRequests();
    // A CANCEL that came while the first target was being resolved has answered the caller already.
    if (started === 0 && !this.branches.some((b) => isLive(b))) return this.cancelled;
    if (!this.options.fullResponse) this.sendDone();
    return true;
  }

  /** The caller CANCELled (spec §7 step 4): 487 upstream, CANCEL every live branch. */
  cancel(): void {
    this.cancelled = true;
    this.searching = false;
    this.respondUpstream(createResponse(this.request, 487, { toTag: generateTag() }));
    for (const b of this.branches) this.cancelBranch(b);
    this.finishIfExhausted();
  }

  private async startRequests(): Promise<number> {
    let count = 0;
    for (const b of this.branches) {
      if (!this.searching) break;
      if (b.state !== 'not-started') continue;
      if (await this.launch(b)) {
        count++;
        if (!this.options.simultaneous) break;
      }
    }
    return count;
  }

  private async launch(b: Branch): Promise<boolean> {
    if (parseUri(b.target) === undefined) {
      b.state = 'gone';
      return false;
    }
    b.state = 'calling';
    const resolved = await this.ctx.resolver.resolve(b.target);
    if (!resolved.ok || !this.searching) {
      this.ctx.log.debug('proxy target not tried', { target: b.target, reason: resolved.ok ? 'search over' : resolved.reason });
      b.state = 'gone';
      return false;
    }
    const forwarded = this.forwardedRequest(b.target, resolved.listen);
    try {
      b.transaction = this.ctx.layer.sendRequest(forwarded, resolved.target, this.userFor(b));
    } catch (err) {
      this.ctx.log.debug('proxy target failed', { target: b.target, err: String(err) });
      b.state = 'gone';
      return false;
    }
    const timeout = this.options.provisionalTimeoutMs;
    if (timeout > 0) b.provisionalTimer = this.ctx.clock.setTimeout(() => this.onProvisionalTimeout(b), timeout);
    return true;
  }

  /** §16.6: a copy with Max-Forwards decremented, no pre-loaded Route, Record-Route/Path if asked. */
  private forwardedRequest(target: string, listen: ListenPoint): SipRequest {
    const copy = this.request.clone();
    const maxForwards = this.request.maxForwards;
    copy.set('Max-Forwards', String(maxForwards === undefined ? 70 : maxForwards - 1));
    copy.remove('route');
    if (this.ctx.resolver.isSelf(this.request.uri)) copy.uri = target;
    if (this.options.recordRoute) {
      const self = `<sip:${this.ctx.local.hostport(listen)};lr>`;
      if (this.request.method === 'REGISTER') {
        copy.prepend('Path', self);
        copy.append('Require', 'path');
      } else {
        copy.prepend('Record-Route', self);
      }
    }
    for (const h of this.options.headers) copy.set(wireHeaderName(h.name), h.value);
    return copy;
  }

  private userFor(b: Branch): ClientTransactionUser {
    return {
      onResponse: (response, transaction, source) => {
        void this.onResponse(b, response, transaction, source);
      },
      onTimeout: (_transaction, timer) => {
        // §16.8: Timer C (a provisional, then no final for 185 s) CANCELs the branch.
        if (timer === 'C' && b.state === 'proceeding') this.sendCancel(b);
        void this.onNoAnswer(b);
      },
      onTransportError: () => {
        void this.onNoAnswer(b);
      },
    };
  }

  private async onResponse(b: Branch, response: SipResponse, _transaction: ClientTransaction, source: SourceInfo): Promise<void> {
    const status = response.status;
    if (status < 200) {
      this.clearProvisionalTimer(b);
      if (b.state === 'abandoned' || b.state === 'gone') {
        // A late provisional on a branch we gave up: now it can be CANCELled (§9.1).
        if (status > 100 || b.state === 'abandoned') this.sendCancel(b);
        return;
      }
      if (b.state === 'calling') b.state = 'proceeding';
      if (status > 100 && !this.upstreamFinal) this.respondUpstream(withoutTopVia(response));
      return;
    }
    if (b.final !== undefined) {
      // A 2xx retransmission (RFC 6026): relay it, the UAS retransmits until the caller's ACK.
      if (status < 300 && b.final.status < 300) this.relayUpstream(response);
      return;
    }
    this.clearProvisionalTimer(b);
    b.final = response;
    if (status < 300 && this.upstreamFinal) {
      // §16.7 step 5: every 2xx goes upstream, also one from a fork that lost (the caller's UA
      // ACKs and BYEs it) or one that crossed the caller's CANCEL.
      b.state = 'done';
      this.relayUpstream(response);
      return;
    }
    this.report(response, source);
    if (status < 300) {
      b.state = 'done';
      this.searching = false;
      this.respondUpstream(withoutTopVia(response));
      for (const other of this.branches) if (other !== b) this.cancelBranch(other);
      this.sendDone();
      this.finish();
      return;
    }
    if (b.state === 'abandoned' || this.cancelled) {
      b.state = 'failed';
      this.finishIfExhausted();
      return;
    }
    b.state = 'failed';
    if ((status === 401 || status === 407) && this.rememberChallenge(response, b.target)) {
      // The reference stops at a challenge: no further target, the best response (the challenge
      // unless a 6xx came) goes to the caller, whose retry is sent to this target (§7 step 2).
      for (const other of this.branches) if (other.state === 'not-started') other.state = 'gone';
      return this.forwardBestResponse();
    }
    if (status < 400 && this.options.followRedirects) this.addRedirectTargets(b, response);
    await this.startRequests();
    if (this.searching && this.exhausted()) this.forwardBestResponse();
  }

  /** Timer B/C/F or a transport failure: the target is gone without a final answer. */
  private async onNoAnswer(b: Branch): Promise<void> {
    this.clearProvisionalTimer(b);
    if (b.state !== 'calling' && b.state !== 'proceeding') return;
    b.state = 'gone';
    if (this.cancelled) return this.finishIfExhausted();
    await this.startRequests();
    if (this.searching && this.exhausted()) this.forwardBestResponse();
  }

  /** provTimeout: nothing at all from this target yet; give up on it and try the next. */
  private onProvisionalTimeout(b: Branch): void {
    b.provisionalTimer = undefined;
    if (b.state !== 'calling') return;
    b.state = 'abandoned';
    void this.startRequests().then(() => {
      if (this.searching && this.exhausted()) this.forwardBestResponse();
    });
  }

  private addRedirectTargets(b: Branch, response: SipResponse): void {
    const contacts = response
      .getAll('contact')
      .map((c) => contactUri(c))
      .filter((u): u is string => u !== undefined);
    const at = this.branches.indexOf(b);
    this.branches.splice(at + 1, 0, ...contacts.map((c) => newBranch(c)));
  }

  private forwardBestResponse(): void {
    this.searching = false;
    const failed = this.branches.filter((b) => b.state === 'failed' && b.final !== undefined);
    const best = failed[bestResponseIndex(failed.map((b) => b.final?.status ?? 0))];
    const response = best?.final !== undefined ? withoutTopVia(best.final) : createResponse(this.request, 408, { toTag: generateTag() });
    this.respondUpstream(response);
    this.sendDone();
    this.finish();
  }

  private cancelBranch(b: Branch): void {
    this.clearProvisionalTimer(b);
    switch (b.state) {
      case 'not-started':
        b.state = 'gone';
        break;
      case 'calling':
        b.state = 'abandoned';
        break;
      case 'proceeding':
        b.state = 'abandoned';
        this.sendCancel(b);
        break;
      default:
        break;
    }
  }

  private sendCancel(b: Branch): void {
    const transaction = b.transaction;
    if (b.cancelSent || transaction === undefined || !this.isInvite) return;
    b.cancelSent = true;
    const cancel = createCancel(transaction.request);
    try {
      this.ctx.layer.sendRequest(cancel, transaction.target, IGNORE, { via: 'keep' });
    } catch (err) {
      this.ctx.log.debug('proxy CANCEL not sent', { err: String(err) });
    }
  }

  private clearProvisionalTimer(b: Branch): void {
    if (b.provisionalTimer !== undefined) this.ctx.clock.clearTimeout(b.provisionalTimer);
    b.provisionalTimer = undefined;
  }

  private exhausted(): boolean {
    return !this.branches.some((b) => isLive(b) || b.state === 'not-started');
  }

  /** After an upstream CANCEL: `done` once no target can still answer. */
  private finishIfExhausted(): void {
    if (!this.cancelled || this.branches.some((b) => isLive(b) || (b.state === 'abandoned' && b.cancelSent && b.final === undefined))) return;
    this.sendDone();
    this.finish();
  }

  /** A response from downstream goes upstream through the caller's server transaction. */
  private respondUpstream(response: SipResponse): void {
    if (this.upstream.terminated || (this.upstream.finalSent && response.status >= 300)) return;
    if (this.upstream.finalSent && !(this.isInvite && response.status >= 200 && response.status < 300)) return;
    if (response.status >= 200) this.upstreamFinal = true;
    try {
      void this.upstream.respond(response);
    } catch (err) {
      this.ctx.log.debug('proxy response not relayed', { err: String(err), status: response.status });
    }
  }

  /** A 2xx after the first final: through the transaction if it takes it, else statelessly by the Via. */
  private relayUpstream(response: SipResponse): void {
    const copy = withoutTopVia(response);
    if (!this.upstream.terminated) {
      try {
        void this.upstream.respond(copy);
        return;
      } catch {
        // the transaction has completed with a non-2xx (487 after a CANCEL): send it statelessly
      }
    }
    const via = copy.topVia;
    if (via !== undefined) void this.ctx.layer.sendStateless(copy, viaTarget(via));
  }

  /** R9: one final response from a target (only with fullResponse). */
  private report(response: SipResponse, source: SourceInfo): void {
    if (!this.options.fullResponse || !this.app.isOpen) return;
    this.app.send(
      responsePayload(
        this.appMsgId,
        ['OK', 'network', String(response.wireLength), source.protocol, source.remoteAddress, String(source.remotePort), stackTime(), '', '', 'continue'],
        messageText(response),
      ),
    );
  }

  /** R10, once. */
  private sendDone(): void {
    if (this.doneSent) return;
    this.doneSent = true;
    if (this.app.isOpen) this.app.send(responsePayload(this.appMsgId, ['OK', 'done']));
  }

  private finish(): void {
    this.onFinished(this);
  }

  /** §7 step 5: no target could even be attempted: 500 upstream and NOK to the app. */
  failToStart(): void {
    this.searching = false;
    this.respondUpstream(createResponse(this.request, 500, { toTag: generateTag() }));
    if (this.app.isOpen) this.app.send(failurePayload(this.appMsgId, 'NOK', 'error proxying request to '));
    this.finish();
  }
}

function newBranch(target: string): Branch {
  return { target, state: 'not-started', transaction: undefined, final: undefined, provisionalTimer: undefined, cancelSent: false };
}

function isLive(b: Branch): boolean {
  return b.state === 'calling' || b.state === 'proceeding';
}
