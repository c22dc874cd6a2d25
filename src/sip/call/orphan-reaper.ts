import type { Logger } from 'pino';
import { cutReasonHeader } from './call-control.ts';
import { sendBye } from './leg-ender.ts';
import type { OutOfDialogSender } from './leg-ender.ts';
import type { LiveCallRecord, LiveCallRegistry } from './live-call-registry.ts';

export interface OrphanReaperDeps {
  registry: LiveCallRegistry;
  /** The SIP server connection the BYEs go through (drachtio-srf's Srf#request). */
  srf: OutOfDialogSender;
  /** The SIP server this process is connected to (its hostport list), once connected. */
  server(): string | undefined;
  /** This process: its own calls are never orphans to it. */
  self: string;
  /**
   * Settles the call up to `endAt` (its last keep-alive): from its reservation, or for a call without
   * one (`call.cdr`, a personal-number call) by writing its CDR. Idempotent; false when it was settled already.
   */
  settle(call: LiveCallRecord, endAt: number): Promise<boolean>;
  log: Logger;
  /** A call whose keep-alive is older than this is an orphan. */
  staleAfterMs: number;
  intervalMs: number;
  now?: () => number;
}

/**
 * Ends calls whose process died. The owner of every answered call moves the call's keep-alive in
 * the LiveCallRegistry every few seconds; a call whose keep-alive is older than `staleAfterMs`
 * has lost its owner. Any process connected to the SIP server that holds the call's dialogs (the
 * server's dialogs outlive the app connection) claims it, sends a BYE on both legs built from the
 * stored dialog state, and settles it from the answer to its last keep-alive (disposition
 * `orphaned`). A call already settled by the stale-call sweeper still gets its BYEs. Calls held
 * by another SIP server are left to the processes connected to it, except those their owner
 * handed over because it lost that server (CallControl.serverLost): the owner settled them, and
 * any reaper sends their legs the BYEs through its own server (a dead server's dialogs are gone,
 * but the devices and carriers at their ends are not).
 */
export class OrphanReaper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(private readonly d: OrphanReaperDeps) {}

  start(): void {
    this.timer = setInterval(() => {
      void this.reap().catch((err: Error) => this.d.log.warn({ err: err.message }, 'looking for orphaned calls failed'));
    }, this.d.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One pass; resolves with how many orphans it ended. Overlapping calls share one pass. */
  reap(): Promise<number> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<number> {
    const server = this.d.server();
    if (server === undefined) return 0;
    const now = (this.d.now ?? Date.now)();
    // each claimed call is ended on its own: a leg that does not answer its BYE (up to 64·T1) holds
    // up only its own call, not every orphan after it
    const ending: Promise<void>[] = [];
    for (const member of await this.d.registry.staleSince(now - this.d.staleAfterMs)) {
      const call = await this.d.registry.get(member);
      if (!call) {
        await this.d.registry.forget(member);
        continue;
      }
      // a call its owner handed over (it lost its SIP server) is ended through any live server,
      // the owner's own included once it is back; other stale calls by a process on their server
      if (call.released === undefined && (call.owner === this.d.self || call.legs.server !== server)) continue;
      if (!(await this.d.registry.claim(member, this.d.self, 30_000))) continue;
      ending.push(this.end(member, call));
    }
    await Promise.all(ending);
    return ending.length;
  }

  /** Both legs a BYE, the call settled up to its last sign of life, its record gone. */
  private async end(member: string, call: LiveCallRecord): Promise<void> {
    const log = this.d.log.child({ callId: call.callId, accountId: call.accountId });
    const headers = cutReasonHeader('signalling_lost');
    const byes = Promise.all(
      [call.legs.caller, call.legs.callee].map((leg) =>
        leg === undefined
          ? Promise.resolve(0)
          : sendBye(this.d.srf, leg, headers).catch((err: Error) => {
              log.warn({ err: err.message }, 'BYE to an orphaned leg not sent');
              return 0;
            }),
      ),
    );
    const endAt = call.released === undefined ? call.lastKeepAlive : Math.min(call.released, call.lastKeepAlive);
    const settled = await this.d.settle(call, endAt).catch((err: Error) => {
      log.error({ err: err.message }, 'settling an orphaned call failed; left to the sweeper');
      return false;
    });
    await this.d.registry.forget(member);
    const [caller, callee] = await byes;
    if (call.released !== undefined)
      log.warn(
        { owner: call.owner, lostAt: new Date(call.released).toISOString(), callerBye: caller, calleeBye: callee, settled },
        'handed-over call ended: both legs sent BYE (its owner lost its SIP server and settled it)',
      );
    else
      log.warn(
        { owner: call.owner, lastKeepAlive: new Date(call.lastKeepAlive).toISOString(), callerBye: caller, calleeBye: callee, settled },
        'orphaned call ended: both legs sent BYE, settled up to its last keep-alive',
      );
  }
}
