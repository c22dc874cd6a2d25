/**
 * One try of digit collection, with FreeSWITCH play_and_get_digits semantics (see CollectOptions
 * in media-port.ts), as a small state machine driven by keys, the end of the prompt and timers:
 *
 *   Prompting ──key──▶ Collecting ──key…──▶ Done(ok: terminator, max keys, or timeout with ≥ min keys)
 *       │ prompt ends        │ timeout < min keys / terminator < min keys
 *       ▼                    ▼
 *   WaitingFirst ──key──▶ Collecting            Done(fail)
 *       │ firstDigitMs
 *       ▼
 *   Done(fail)
 */
import type { ClockPort } from './pacing-clock.ts';
import type { Digit } from '../media-port.ts';

export enum EntryState {
  Prompting = 'prompting',
  WaitingFirst = 'waiting-first',
  Collecting = 'collecting',
  Done = 'done',
}

export type EntryOutcome = { ok: true; digits: string; terminator?: string } | { ok: false };

export interface EntryRules {
  min: number;
  max: number;
  terminators: string;
  firstDigitMs: number;
  interDigitMs: number;
}

export class DigitEntry {
  state = EntryState.Prompting;
  private digits = '';
  private timer: unknown;
  private settle!: (o: EntryOutcome) => void;
  readonly outcome: Promise<EntryOutcome>;

  constructor(
    private readonly rules: EntryRules,
    private readonly clock: Pick<ClockPort, 'setTimeout' | 'clearTimeout'>,
  ) {
    if (!Number.isInteger(rules.min) || !Number.isInteger(rules.max) || rules.min < 0 || rules.max < 1 || rules.min > rules.max) {
      throw new RangeError(`bad digit counts min=${rules.min} max=${rules.max}`);
    }
    this.outcome = new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  /** A key arrived. Returns true when it should stop the prompt (the first key while prompting). */
  key(digit: Digit): boolean {
    if (this.state === EntryState.Done) return false;
    const stopsPrompt = this.state === EntryState.Prompting;
    if (this.rules.terminators.includes(digit)) {
      if (this.digits.length > 0 && this.digits.length >= this.rules.min) this.finish({ ok: true, digits: this.digits, terminator: digit });
      else this.finish({ ok: false });
      return stopsPrompt;
    }
    this.digits += digit;
    if (this.digits.length >= this.rules.max) {
      this.finish({ ok: true, digits: this.digits });
      return stopsPrompt;
    }
    this.state = EntryState.Collecting;
    this.arm(this.rules.interDigitMs);
    return stopsPrompt;
  }

  /** The prompt finished (or was stopped by a key). */
  promptEnded(): void {
    if (this.state !== EntryState.Prompting) return;
    this.state = EntryState.WaitingFirst;
    this.arm(this.rules.firstDigitMs);
  }

  /** Abandon (hangup, superseded). */
  cancel(): void {
    this.finish({ ok: false });
  }

  private arm(ms: number): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => this.onTimeout(), ms);
  }

  private onTimeout(): void {
    this.timer = undefined;
    if (this.state === EntryState.Collecting && this.digits.length >= this.rules.min) this.finish({ ok: true, digits: this.digits });
    else this.finish({ ok: false });
  }

  private finish(o: EntryOutcome): void {
    if (this.state === EntryState.Done) return;
    this.state = EntryState.Done;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.settle(o);
  }
}
