import type { Logger } from 'pino';
import type { MediaSession, Recording } from '../../media/media-port.ts';
import type { PrepaidCall } from './prepaid-call.ts';

/** What a call flow needs to record a connected call (docs/privacy.md › Call recording). Nothing here may hold up or fail the call. */
export interface RecordingDeps {
  /** The account holder's consent, read as the call is connected (the account's live-balance hash in Redis). */
  consented(accountId: number): Promise<boolean>;
  /** Play "this call may be recorded" to the party called before the two are connected. */
  announce: boolean;
  /** A new storage key for a recording made now. */
  keyFor(at: Date): string;
  /** The recording was closed: its record (linked to the call's CDR by call id and start). */
  saved(r: { callId: string; callStart: Date; accountId: number; storageKey: string; sizeBytes: number; durationMs: number; sha256: string }): Promise<unknown>;
  /** A recording could not be made, closed or recorded: logged by the caller, counted here. */
  failed(callId: string, cause: string): void;
}

/** The steps every recorded call goes through: is it wanted, start, close and record. */
export class CallRecorder {
  constructor(readonly deps: RecordingDeps) {}

  /** Whether this call is to be recorded: the account holder's consent, read now (a failed read: not recorded, counted). */
  async wanted(call: PrepaidCall, log: Logger): Promise<boolean> {
    try {
      return await this.deps.consented(call.facts.accountId!);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'recording consent not readable: the call is not recorded');
      this.deps.failed(call.facts.callId, 'consent not readable');
      return false;
    }
  }

  /** Starts recording a bridged session; resolves undefined (logged, counted) when it cannot. */
  async start(session: MediaSession, call: PrepaidCall, log: Logger): Promise<Recording | undefined> {
    try {
      return await session.record(this.deps.keyFor(new Date()));
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'call recording not started: the call goes on unrecorded');
      this.deps.failed(call.facts.callId, `not started: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** Closes the call's recording and writes its record, in the background (the call flow goes on at once). */
  close(pending: Promise<Recording | undefined> | undefined, call: PrepaidCall, log: Logger): void {
    if (pending === undefined) return;
    void (async () => {
      const rec = await pending;
      if (rec === undefined) return;
      try {
        const f = await rec.stop();
        await this.deps.saved({
          callId: call.facts.callId,
          callStart: new Date(call.startTime),
          accountId: call.facts.accountId!,
          storageKey: f.key,
          sizeBytes: f.bytes,
          durationMs: f.durationMs,
          sha256: f.sha256,
        });
        log.info({ key: f.key, bytes: f.bytes, durationMs: f.durationMs }, 'call recorded');
      } catch (err) {
        log.error({ err: (err as Error).message, key: rec.key }, 'call recording not stored');
        this.deps.failed(call.facts.callId, `not stored: ${(err as Error).message}`);
      }
    })();
  }
}
