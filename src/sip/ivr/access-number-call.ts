import type { Logger } from 'pino';
import type { Account, AccountService } from '../../accounts/account-service.ts';
import type { IvrSessionRecord } from '../../billing/balance/balance-store.ts';
import { normaliseVoucherCode } from '../../accounts/vouchers.ts';
import { sipStatusOf } from '../../errors.ts';
import type { ErrorCode } from '../../errors.ts';
import { MediaNotAcceptableError, MediaPortsExhaustedError } from '../../media/media-port.ts';
import type { CollectResult, MediaLeg, MediaServer, MediaSession, PlayResult, Prompt, Recording } from '../../media/media-port.ts';
import type { PromptName } from '../../media/prompts/catalog.ts';
import { phraseBook } from '../../media/prompts/phrases.ts';
import type { PhraseBook } from '../../media/prompts/phrases.ts';
import { cutReasonHeader } from '../call/call-control.ts';
import type { Authorised, CallControl } from '../call/call-control.ts';
import { dialogStillUp } from '../call/dialog-probe.ts';
import type { ForkSrf } from '../call/did-call.ts';
import type { B2bRequest, B2bResponse, SipDialog, UacRequest } from '../call/outbound-call.ts';
import { CallState, PrepaidCall } from '../call/prepaid-call.ts';
import type { CallerIdentity } from './caller-identity.ts';
import { onDialogEnd } from '../call/dialog-end.ts';
import { byeBothLegs } from '../call/leg-ender.ts';
import type { OutOfDialogSender } from '../call/leg-ender.ts';
import { calleeLegOf, callerLegOf } from '../call/leg-state.ts';
import type { CallLegs, LegState, SrfDialogView } from '../call/leg-state.ts';
import type { CallFacts } from '../call/prepaid-call.ts';
import { CallRecorder } from '../call/call-recording.ts';
import type { RecordingDeps } from '../call/call-recording.ts';
import { IvrState, nextIvrState } from './ivr-state.ts';
import type { IvrEventType } from './ivr-state.ts';
import type { IvrSettings } from './ivr-settings.ts';
import type { PinAttemptOrigin, PinBudget, PinBudgetName } from './pin-budget.ts';
import type { LockSubject, PinLockout } from './pin-lockout.ts';

type UacDialog = SipDialog & { remote: { sdp: string } };

export interface AccessNumberDeps {
  srf: Pick<ForkSrf, 'createUAC'>;
  media: MediaServer;
  control: CallControl;
  accounts: Pick<AccountService, 'findAccountByPin' | 'findAccountByCli' | 'get' | 'listClis'> & {
    /** Records the calling number as awaiting the customer's confirmation in self-care (it does not log in PIN-less until then). */
    requestCli(accountId: number, cli: string): Promise<void>;
  };
  /** Live available credit (Redis), for the balance announcement. */
  balances: { get(accountId: number): Promise<{ available: number } | undefined> };
  /** Where each session's record goes (the balance store's stream); none: not recorded. */
  sessions?: { recordIvrSession(s: IvrSessionRecord): Promise<unknown> };
  lockout: PinLockout;
  /** The account's speed dial at a position (1–99): the number it stands for (E.164 digits), undefined when none is set. */
  speedDial?: (accountId: number, position: number) => Promise<string | undefined>;
  /**
   * Voucher top-up at the destination prompt (key 9). `attempt` counts a try on the account and
   * the caller before the code is looked up (the same counters as self-care); `redeem` is the voucher
   * service's single-use redemption. Without it, 9 is an ordinary (too short) entry.
   */
  vouchers?: {
    attempt(accountId: number, source: string): Promise<boolean>;
    succeeded(accountId: number, source: string): Promise<void>;
    redeem(account: Account, code: string): Promise<{ ok: true; amount: number; balanceAfter: number } | { ok: false }>;
  };
  /** Wrong-PIN budgets per access number and per carrier source. */
  budget: PinBudget;
  settings: IvrSettings;
  log: Logger;
  /** Waits `ms` (the tarpit); default a timer. */
  wait?: (ms: number) => Promise<void>;
  /** Each state the IVR enters (for tests and metrics). */
  onState?: (callId: string, state: IvrState) => void;
  /** A wrong PIN was keyed (for metrics and tests); never carries the PIN. */
  onWrongPin?: (e: PinAttemptOrigin & { callId: string }) => void;
  /** A wrong-PIN budget has just been spent (the alert: logged at warn too). */
  onPinBudgetExhausted?: (e: PinAttemptOrigin & { budget: PinBudgetName }) => void;
  /** A caller was refused because a budget is spent. */
  onPinBudgetRefusal?: (e: PinAttemptOrigin & { budget: PinBudgetName }) => void;
  /**
   * Call-state durability: the SIP server this process is connected to, and a way to send a BYE
   * outside a Dialog object. With both, a connected call's legs are kept in Redis (CallControl) and
   * get a BYE from that state when the SIP server has lost them.
   */
  server?: () => string | undefined;
  sender?: OutOfDialogSender;
  /** Call recording at the account holder's wish (docs/privacy.md › Call recording); none: never recorded. */
  recording?: RecordingDeps;
}

const timerWait = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

/** One call to an access number, as it reached the app from a trusted carrier. */
export interface AccessCallFacts {
  callId: string;
  accessNumber: string;
  language: string;
  sourceIp: string;
  carrierId: string;
  identity: CallerIdentity;
}

/**
 * Who is in the menu and how the calls placed from it are recorded: a caller at an access number
 * (after PIN or caller-ID login), or a callback customer whose phone the platform called (leg A,
 * answered into the menu already logged in as the requesting account).
 */
export interface MenuCaller {
  /** The id the IVR's states are reported under (onState). */
  id: string;
  language: string;
  /** The CDR facts of the `seq`-th call placed from the menu (1, 2, …) to what was keyed. */
  callFacts(seq: number, dialled: string, account: Account): CallFacts;
  /** The caller ID the calls placed from the menu present; withheld: `anonymous` with Privacy: id. */
  presented: { number: string | null; withheld: boolean };
  /** What voucher attempts count against besides the account (shared with self-care's counters). */
  voucherSource: string;
  /** The caller's leg as stored in the live-call registry, read from the session's dialog. */
  callerLeg(dialog: unknown): LegState;
  /** Told each call placed from the menu before it is dialled (after it was authorised). */
  placing?(callId: string): Promise<void>;
}

/** The menu's caller for a call to an access number. */
function accessNumberCaller(f: AccessCallFacts): MenuCaller {
  const { cli, withheld } = f.identity;
  return {
    id: f.callId,
    language: f.language,
    callFacts: (seq, dialled, a) => ({
      callId: seq === 1 ? f.callId : `${f.callId}/${seq}`,
      accountId: a.id,
      kind: 'access_number',
      cli,
      sourceIp: f.sourceIp,
      accessNumber: f.accessNumber,
      device: null,
      dialledNumber: dialled,
      currency: a.currency,
    }),
    presented: { number: cli, withheld },
    voucherSource: cli && !withheld ? `cli:${cli}` : `access:${f.accessNumber}`,
    // the access leg is our UAS dialog
    callerLeg: (dialog) => callerLegOf(dialog as SrfDialogView),
  };
}

const REFUSAL_PROMPT: Partial<Record<ErrorCode, PromptName>> = {
  INSUFFICIENT_CREDIT: 'insufficient-credit',
  DAILY_CAP_REACHED: 'insufficient-credit',
  VALIDATION_FAILED: 'unknown-destination',
  NOT_A_PHONE_NUMBER: 'unknown-destination',
  ADDRESS_INCOMPLETE: 'unknown-destination',
  SHORT_CODE_NOT_SUPPORTED: 'unknown-destination',
  EMERGENCY_NOT_SUPPORTED: 'unknown-destination',
  NO_RATE: 'unknown-destination',
  DESTINATION_BLOCKED: 'destination-not-allowed',
  UNKNOWN_SPEED_DIAL: 'unknown-destination',
};

/** A speed dial keyed at the destination prompt: `*` and the position (1–99), before `#`. */
const SPEED_DIAL_KEYS = /^\*([0-9]{1,2})$/;
/** What the caller keys at the destination prompt for a voucher top-up. */
const VOUCHER_KEY = '9';
/** Voucher codes keyed per voucher menu before the caller is sent back to the destination prompt. */
const VOUCHER_TRIES = 3;

/** The IVR of the access numbers: answers the caller with the media server and runs the state machine (ivr-state.ts) until it ends. */
export class AccessNumberCall {
  constructor(private readonly deps: AccessNumberDeps) {}

  async handle(req: B2bRequest, res: B2bResponse, facts: AccessCallFacts): Promise<void> {
    const log = this.deps.log.child({ callId: facts.callId, accessNumber: facts.accessNumber });
    let session: MediaSession;
    try {
      session = await this.deps.media.answer(req, res, { language: facts.language });
    } catch (err) {
      if (err instanceof MediaPortsExhaustedError || err instanceof MediaNotAcceptableError) {
        log.warn({ err: err.message }, 'access-number call refused by the media server');
        res.send(err.sipStatus, err.sipReason);
        return;
      }
      throw err;
    }
    await new IvrRun(this.deps, session, accessNumberCaller(facts), log, Date.now(), { access: facts }).run();
  }

  /**
   * The menu on a leg already answered by the media server (a callback's leg A) for an account
   * already known (the request came from the authenticated customer or an operator): no welcome,
   * no PIN; from the balance announcement on, everything as for an access-number caller after
   * login. Resolves when the menu has ended and the session is destroyed.
   */
  async menu(session: MediaSession, account: Account, caller: MenuCaller): Promise<void> {
    const log = this.deps.log.child({ callId: caller.id, accountId: account.id });
    await new IvrRun(this.deps, session, caller, log, Date.now(), { account }).run();
  }
}

/** What the current outbound call holds while it is dialled and connected. */
interface Outbound {
  call: PrepaidCall;
  auth: Authorised;
  leg?: MediaLeg;
  uac?: UacDialog;
  /** The recording of this call, once asked for (it resolves undefined when it could not start). */
  recording?: Promise<Recording | undefined>;
}

class IvrRun {
  private state: IvrState;
  private account: Account | undefined;
  /** The access-number call (PIN login, caller-ID offer, session record); none for a menu entered logged in. */
  private readonly access: AccessCallFacts | undefined;
  private byPin = false;
  private refusal: PromptName = 'call-failed';
  private destination = '';
  private seq = 0;
  private outbound: Outbound | undefined;
  private callerGone = false;
  private pendingUac: UacRequest | undefined;
  private interruptConnected: ((why: 'rtp-timeout' | 'caller-gone') => void) | undefined;
  private readonly phrases: PhraseBook;
  private readonly recorder: CallRecorder | undefined;
  /** For the session's record: PINs keyed, and the events the session went through. */
  private pinAttempts = 0;
  private readonly events = new Set<IvrEventType>();

  constructor(
    private readonly d: AccessNumberDeps,
    private readonly session: MediaSession,
    private readonly m: MenuCaller,
    private readonly log: Logger,
    private readonly answeredAt: number,
    entry: { access: AccessCallFacts } | { account: Account },
  ) {
    this.phrases = phraseBook(m.language);
    this.recorder = d.recording === undefined ? undefined : new CallRecorder(d.recording);
    if ('access' in entry) {
      this.access = entry.access;
      this.state = IvrState.Welcome;
    } else {
      this.account = entry.account;
      this.state = IvrState.Balance;
    }
  }

  /** The access-number call; only the login steps, which a menu entered logged in never reaches, ask for it. */
  private get f(): AccessCallFacts {
    if (!this.access) throw new Error('IVR: an access-number step in a menu entered logged in');
    return this.access;
  }

  async run(): Promise<void> {
    this.session.on('ended', () => {
      this.callerGone = true;
      try {
        this.pendingUac?.cancel();
      } catch {
        /* already final */
      }
      this.interruptConnected?.('caller-gone');
    });
    this.session.on('rtp-timeout', (e) => {
      this.log.info({ leg: e.leg, silentMs: e.silentMs }, 'RTP timeout: hanging up');
      if (this.interruptConnected) this.interruptConnected('rtp-timeout');
      else {
        this.callerGone = true;
        void this.session.destroy();
      }
    });
    try {
      while (this.state !== IvrState.Ended) {
        this.d.onState?.(this.m.id, this.state);
        const event: IvrEventType = this.callerGone && this.state !== IvrState.Connected ? 'hangup' : await this.act();
        this.events.add(event);
        this.state = nextIvrState(this.state, event);
      }
    } finally {
      // a call still open (a bug, or the caller left between steps) is settled; the caller is hung up
      if (this.outbound) this.closeRecording(this.outbound, this.log);
      if (this.outbound && this.outbound.call.state !== CallState.Settled && this.outbound.call.state !== CallState.Settling) {
        if (this.outbound.uac) void Promise.resolve(this.outbound.uac.destroy()).catch(() => undefined);
        await this.d.control.settle(this.outbound.call, this.log);
      }
      await this.session.destroy();
      await this.recordSession();
      this.d.onState?.(this.m.id, IvrState.Ended);
    }
  }

  /**
   * The session's record (no cost to the customer): how long the carrier's access leg was up and
   * how the session ended, so the carrier's invoice can be reconciled even for sessions that never
   * placed a call. A failure to record is logged; it never disturbs the caller.
   */
  private async recordSession(): Promise<void> {
    if (!this.d.sessions || !this.access) return;
    const endTime = Date.now();
    const outcome: IvrSessionRecord['outcome'] =
      this.seq > 0
        ? 'calls_placed'
        : this.refusal === 'pin-locked' && this.events.has('refused')
          ? 'locked'
          : this.refusal === 'pin-incorrect' && this.events.has('refused')
            ? 'pin_refused'
            : this.events.has('refused')
              ? 'refused'
              : this.events.has('hangup')
                ? 'caller_hung_up'
                : this.events.has('no-destination')
                  ? 'no_destination'
                  : 'ended';
    const record: IvrSessionRecord = {
      callId: this.f.callId,
      accountId: this.account?.id ?? null,
      accessNumber: this.f.accessNumber,
      cli: this.f.identity.withheld ? null : this.f.identity.cli,
      sourceIp: this.f.sourceIp,
      carrier: this.f.carrierId,
      startTime: this.answeredAt,
      endTime,
      durationMs: Math.max(0, endTime - this.answeredAt),
      outcome,
      pinAttempts: this.pinAttempts,
      calls: this.seq,
    };
    try {
      await this.d.sessions.recordIvrSession(record);
      this.log.info({ outcome, durationMs: record.durationMs, calls: record.calls, pinAttempts: record.pinAttempts }, 'access-number session recorded');
    } catch (err) {
      this.log.error({ err: (err as Error).message, outcome, durationMs: record.durationMs }, 'recording the access-number session failed');
    }
  }

  private act(): Promise<IvrEventType> {
    switch (this.state) {
      case IvrState.Welcome:
        return this.welcome();
      case IvrState.PinEntry:
        return this.pinEntry();
      case IvrState.OfferCli:
        return this.offerCli();
      case IvrState.Balance:
        return this.balance();
      case IvrState.Destination:
        return this.destinationEntry();
      case IvrState.Authorising:
        return this.authorise();
      case IvrState.Dialling:
        return this.dial();
      case IvrState.Connected:
        return this.connected();
      case IvrState.AnotherCall:
        return this.anotherCall();
      case IvrState.Voucher:
        return this.voucher();
      case IvrState.Refusal:
        return this.say([this.refusal]);
      case IvrState.Goodbye:
        return this.say(['goodbye']);
      case IvrState.Ended:
        throw new Error('the IVR has ended');
    }
  }

  private gone(r: PlayResult | CollectResult): boolean {
    return r.kind === 'hangup' || r.kind === 'stopped' || this.callerGone;
  }

  private async say(prompts: readonly Prompt[]): Promise<IvrEventType> {
    return this.gone(await this.session.play(prompts)) ? 'hangup' : 'done';
  }

  private refuse(prompt: PromptName): IvrEventType {
    this.refusal = prompt;
    return 'refused';
  }

  /** Whom a wrong PIN counts against besides the account: the caller ID, or all callers with none on this access number. */
  private get callerSubject(): LockSubject {
    return this.f.identity.cli ? { cli: this.f.identity.cli } : { anonymousOn: this.f.accessNumber };
  }

  private async welcome(): Promise<IvrEventType> {
    const { cli, withheld } = this.f.identity;
    const lookup = (async () => {
      if (!cli) return undefined;
      const id = await this.d.accounts.findAccountByCli(cli);
      return id === undefined ? undefined : this.d.accounts.get(id);
    })();
    if (this.gone(await this.session.play(['welcome']))) return 'hangup';
    const owner = await lookup;
    if (owner && owner.status === 'active' && !withheld) {
      this.account = owner;
      this.log.info({ accountId: owner.id }, 'logged in by caller ID');
      return 'cli-login';
    }
    if (await this.d.lockout.isLocked(this.callerSubject)) return this.refuse('pin-locked');
    const spent = await this.d.budget.spent(this.origin);
    if (spent !== undefined) return this.budgetRefusal(spent);
    return 'pin-needed';
  }

  private get origin(): PinAttemptOrigin {
    return { accessNumber: this.f.accessNumber, sourceIp: this.f.sourceIp };
  }

  /** A spent wrong-PIN budget: the caller is told PIN login is locked; no PIN is checked. */
  private budgetRefusal(budget: PinBudgetName): IvrEventType {
    this.log.info({ budget, sourceIp: this.f.sourceIp, carrierId: this.f.carrierId }, 'wrong-PIN budget spent: PIN login refused');
    this.d.onPinBudgetRefusal?.({ ...this.origin, budget });
    return this.refuse('pin-locked');
  }

  private async pinEntry(): Promise<IvrEventType> {
    const { cli } = this.f.identity;
    const owner = cli ? await this.d.accounts.findAccountByCli(cli) : undefined;
    const subjects: LockSubject[] = [this.callerSubject, ...(owner === undefined ? [] : [{ accountId: owner }])];
    for (let attempt = 0; attempt < this.d.settings.pinTries; attempt++) {
      const r = await this.session.collect({
        min: 6,
        max: 12,
        terminators: '#',
        firstDigitMs: this.d.settings.firstDigitMs,
        interDigitMs: this.d.settings.interDigitMs,
        prompts: attempt === 0 ? ['enter-pin'] : ['pin-incorrect', 'enter-pin'],
      });
      if (this.gone(r)) return 'hangup';
      if (r.kind !== 'digits') continue;
      this.pinAttempts += 1;
      // the attempt is counted before the PIN is looked up, so parallel calls cannot exceed the budgets
      const taken = await this.d.budget.take(this.origin);
      if (!taken.ok) return this.budgetRefusal(taken.spent);
      for (const budget of taken.nowSpent) {
        this.log.warn(
          {
            budget,
            sourceIp: this.f.sourceIp,
            carrierId: this.f.carrierId,
            limit: budget === 'source' ? this.d.settings.pinBudgetPerSource : this.d.settings.pinBudgetPerAccessNumber,
          },
          'wrong-PIN budget spent: PIN login stops until the window slides (possible PIN guessing)',
        );
        this.d.onPinBudgetExhausted?.({ ...this.origin, budget });
      }
      const account = await this.pinAccount(r.digits);
      if (account) {
        await this.d.budget.giveBack(this.origin, taken.ticket);
        this.account = account;
        this.byPin = true;
        if (cli) await this.d.lockout.succeeded({ cli }); // an anonymous success clears nothing: it is not one caller
        this.log.info({ accountId: account.id }, 'logged in by PIN');
        return 'pin-accepted';
      }
      this.log.info({ attempt: attempt + 1 }, 'wrong PIN');
      this.d.onWrongPin?.({ ...this.origin, callId: this.f.callId });
      const locked = await this.d.lockout.fail(subjects);
      // the tarpit: silence before the next prompt slows every guessing channel down
      await (this.d.wait ?? timerWait)(this.d.settings.pinTarpitMs);
      if (locked) {
        this.log.warn({ cli }, 'too many wrong PINs: locked');
        return this.refuse('pin-locked');
      }
    }
    return this.refuse('pin-incorrect');
  }

  /**
   * The account a PIN logs in to: only an active, unlocked one. The right PIN of a locked,
   * suspended or closed account is treated as a wrong one, prompts, count and tarpit alike: any
   * other answer would tell a guesser that the PIN is real (docs/security.md). The lock is looked
   * up for every PIN keyed, real or not (the account, when there is one, at the same time).
   */
  private async pinAccount(pin: string): Promise<Account | undefined> {
    const accountId = await this.d.accounts.findAccountByPin(pin);
    const [locked, account] = await Promise.all([
      this.d.lockout.isLocked({ accountId: accountId ?? 0 }),
      accountId === undefined ? undefined : this.d.accounts.get(accountId),
    ]);
    return account && account.status === 'active' && !locked ? account : undefined;
  }

  /**
   * After a PIN login, the calling number may be registered for PIN-less login (press 1). It is
   * recorded as pending: the customer confirms it in self-care with the password, so a leaked PIN
   * alone cannot become permanent PIN-less access; a PIN change revokes it (docs/security.md).
   */
  private async offerCli(): Promise<IvrEventType> {
    const { cli, withheld } = this.f.identity;
    const a = this.account!;
    const allowed = this.d.settings.cliRegistration === 'all' || (this.d.settings.cliRegistration === 'calling_account' && a.kind === 'calling_account');
    if (!this.byPin || !allowed || !cli || withheld || a.status !== 'active') return 'done';
    if ((await this.d.accounts.findAccountByCli(cli)) !== undefined) return 'done';
    if ((await this.d.accounts.listClis(a.id)).length >= this.d.settings.maxClis) return 'done';
    const r = await this.session.collect({
      min: 1,
      max: 1,
      terminators: '',
      firstDigitMs: this.d.settings.firstDigitMs,
      interDigitMs: this.d.settings.interDigitMs,
      prompts: ['register-cli'],
    });
    if (this.gone(r)) return 'hangup';
    if (r.kind !== 'digits' || r.digits !== '1') return 'done';
    try {
      await this.d.accounts.requestCli(a.id, cli);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ALREADY_EXISTS') throw err;
      return 'done';
    }
    this.log.info({ accountId: a.id }, 'caller ID registered for PIN-less login, awaiting confirmation in self-care');
    return this.say(['cli-registered']);
  }

  private async balance(): Promise<IvrEventType> {
    if (!this.d.settings.announceBalance) return 'done';
    const live = await this.d.balances.get(this.account!.id);
    return this.say(this.phrases.balance(Math.max(0, live?.available ?? 0), this.account!.currency));
  }

  /**
   * The destination: a number (3–20 keys), a speed dial (`*`, 1–99, `#`) or, when vouchers are
   * offered, `9` alone for a top-up. Anything shorter is a failed try; two tries.
   */
  private async destinationEntry(): Promise<IvrEventType> {
    const hints: Prompt[] = this.d.settings.menuHints ? ['destination-options'] : [];
    for (let attempt = 0; attempt < 2; attempt++) {
      const r = await this.session.collect({
        min: 1,
        max: 20,
        terminators: '#',
        firstDigitMs: this.d.settings.firstDigitMs,
        interDigitMs: this.d.settings.interDigitMs,
        prompts: ['enter-destination', ...hints],
      });
      if (this.gone(r)) return 'hangup';
      if (r.kind !== 'digits') continue;
      if (r.digits === VOUCHER_KEY && this.d.vouchers) return 'voucher';
      if (r.digits.length < 3 && !SPEED_DIAL_KEYS.test(r.digits)) continue;
      this.destination = r.digits;
      return 'destination';
    }
    return 'no-destination';
  }

  /**
   * Voucher top-up: the 20-digit code and `#`, redeemed through the voucher service (single use,
   * atomic with the credit). Every code keyed counts against the account's and the caller's voucher
   * attempts before it is looked up (shared with self-care), a redeemed one gives its attempt back;
   * attempts used up end the call (`voucher-locked`). The new balance is said after a top-up.
   */
  private async voucher(): Promise<IvrEventType> {
    const v = this.d.vouchers!;
    const a = this.account!;
    const source = this.m.voucherSource;
    for (let attempt = 0; attempt < VOUCHER_TRIES; attempt++) {
      const r = await this.session.collect({
        min: 20,
        max: 20,
        terminators: '#',
        firstDigitMs: this.d.settings.firstDigitMs,
        interDigitMs: this.d.settings.interDigitMs,
        prompts: attempt === 0 ? ['enter-voucher'] : ['voucher-invalid', 'enter-voucher'],
      });
      if (this.gone(r)) return 'hangup';
      if (r.kind !== 'digits') return this.say(['voucher-invalid']);
      if (!(await v.attempt(a.id, source))) {
        this.log.warn({ accountId: a.id }, 'voucher attempts used up at the access number');
        return this.refuse('voucher-locked');
      }
      const code = normaliseVoucherCode(r.digits);
      const redeemed = code === undefined ? { ok: false as const } : await v.redeem(a, code);
      if (redeemed.ok) {
        await v.succeeded(a.id, source);
        this.log.info({ accountId: a.id, amount: redeemed.amount }, 'voucher redeemed at the access number');
        return this.say(['voucher-accepted', ...this.phrases.balance(Math.max(0, redeemed.balanceAfter), a.currency)]);
      }
      this.log.info({ accountId: a.id, attempt: attempt + 1 }, 'voucher code refused at the access number');
    }
    return this.say(['voucher-invalid']);
  }

  private async authorise(): Promise<IvrEventType> {
    const a = this.account!;
    this.seq += 1;
    const facts = this.m.callFacts(this.seq, this.destination, a);
    const callId = facts.callId;
    const call = new PrepaidCall(facts, Date.now());
    const log = this.log.child({ callId, accountId: a.id });
    // a speed dial is screened, rated and routed as the number it stands for; the CDR keeps the keys
    const speedDial = SPEED_DIAL_KEYS.exec(this.destination);
    let target = this.destination;
    if (speedDial) {
      const position = Number(speedDial[1]);
      const number = position >= 1 && this.d.speedDial ? await this.d.speedDial(a.id, position) : undefined;
      if (number === undefined) {
        this.d.control.refused(call, 'UNKNOWN_SPEED_DIAL', log, `no speed dial ${position}`);
        await this.d.control.settle(call, log);
        return this.refuse('unknown-destination');
      }
      target = `+${number}`;
    }
    const auth = await this.d.control.authorise(call, a, target, log);
    if (!auth.ok) {
      this.d.control.refused(call, auth.code, log, auth.detail);
      await this.d.control.settle(call, log);
      return this.refuse(REFUSAL_PROMPT[auth.code] ?? 'call-failed');
    }
    this.outbound = { call, auth };
    if (this.m.placing)
      await this.m.placing(callId).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'recording the call placed from the menu failed'));
    if (this.callerGone) return 'hangup';
    return this.say(this.phrases.remaining(auth.maxSeconds)).then((e) => (e === 'done' ? 'authorised' : e));
  }

  private async failOutbound(status: number, reason: string): Promise<IvrEventType> {
    const o = this.outbound!;
    o.call.sipCode = status;
    o.call.sipReason = reason;
    o.call.disposition = 'failed';
    await this.d.control.settle(o.call, this.log);
    await this.session.release();
    return this.refuse('call-failed');
  }

  private async dial(): Promise<IvrEventType> {
    const o = this.outbound!;
    const log = this.log.child({ callId: o.call.facts.callId });
    try {
      o.leg = await this.session.createLeg();
    } catch (err) {
      if (this.callerGone) {
        await this.d.control.settle(o.call, log);
        return 'hangup';
      }
      if (!(err instanceof MediaPortsExhaustedError)) throw err;
      log.warn({ err: err.message }, 'no media port for the outbound leg');
      return this.failOutbound(...sipStatusOf('MEDIA_PORTS_EXHAUSTED'));
    }
    const leg = o.leg;
    if (this.gone(await this.session.play(['connecting']))) {
      await this.d.control.settle(o.call, log);
      return 'hangup';
    }
    // ringback while the carrier rings; bridging stops it
    void this.session.play(['tones/ringback'], { loop: true });
    const outcome = await this.d.control.dial(
      o.call,
      o.auth.routes,
      (route, sent, ringing) =>
        this.d.srf.createUAC(
          route.uri,
          {
            localSdp: leg.localSdp,
            callingNumber: this.m.presented.withheld ? 'anonymous' : (this.m.presented.number ?? 'anonymous'),
            ...(this.m.presented.withheld ? { headers: { Privacy: 'id' } } : {}),
            ...(route.gateway.auth ? { auth: route.gateway.auth } : {}),
          },
          {
            cbRequest: (_err, r) => {
              this.pendingUac = r;
              sent(() => r.cancel());
            },
            cbProvisional: (p) => {
              if (p.status === 180 || p.status === 183) ringing();
            },
          },
        ),
      () => this.callerGone,
      log,
    );
    this.pendingUac = undefined;
    if (outcome.kind === 'cancelled') {
      await this.d.control.settle(o.call, log);
      return 'hangup';
    }
    if (outcome.kind === 'failed') {
      await this.d.control.settle(o.call, log);
      await this.session.release();
      return this.refuse('call-failed');
    }
    const uac = outcome.value;
    o.uac = uac;
    if (this.callerGone) {
      void Promise.resolve(uac.destroy()).catch(() => undefined);
      await this.d.control.settle(o.call, log);
      return 'hangup';
    }
    try {
      await leg.setRemoteSdp(uac.remote.sdp);
      const record = await this.recordingWanted(o, log);
      if (record && this.d.recording?.announce === true) await this.session.announce(leg, ['recording-notice']);
      await this.session.bridge(leg);
      if (record) o.recording = this.recorder!.start(this.session, o.call, log);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'bridging the outbound leg failed');
      void Promise.resolve(uac.destroy()).catch(() => undefined);
      return this.failOutbound(...sipStatusOf('MEDIA_NOT_ACCEPTABLE'));
    }
    return 'answered';
  }

  private async recordingWanted(o: Outbound, log: Logger): Promise<boolean> {
    return this.recorder !== undefined && (await this.recorder.wanted(o.call, log));
  }

  /** Closes the call's recording and writes its record, in the background (the caller goes on at once). */
  private closeRecording(o: Outbound, log: Logger): void {
    const pending = o.recording;
    o.recording = undefined;
    this.recorder?.close(pending, o.call, log);
  }

  private connected(): Promise<IvrEventType> {
    const o = this.outbound!;
    const uac = o.uac!;
    const log = this.log.child({ callId: o.call.facts.callId });
    // the warning says the time really left (CREDIT_WARN_SECONDS before the cut, or less when the credit was shorter)
    const warning = (secondsLeft: number): Prompt[] => (this.d.settings.warning === 'beep' ? ['tones/beep'] : this.phrases.remaining(secondsLeft));
    return new Promise<IvrEventType>((resolve) => {
      let finished = false;
      const finish = (event: IvrEventType, disposition: string) => {
        if (finished) return;
        finished = true;
        this.interruptConnected = undefined;
        this.closeRecording(o, log);
        // the leg's media is freed before anything else is played to the caller
        void supervision
          .end(disposition)
          .then(() => this.session.release())
          .then(
            () => resolve(event),
            () => resolve('hangup'),
          );
      };
      // the caller's leg (answered by the media server) and the carrier's, for another process to end if this one dies
      const state = this.legsWith(uac);
      const supervision = this.d.control.supervise(
        o.call,
        o.auth.rate,
        o.auth.coveredSeconds,
        {
          hangUp: (reason) => {
            void Promise.resolve(uac.destroy({ headers: cutReasonHeader(reason) })).catch(() => undefined);
            // a restarted SIP server no longer knows the dialogs: the BYEs are built from their state
            if (reason === 'signalling_lost' && state && this.d.sender) byeBothLegs(this.d.sender, state, cutReasonHeader(reason), log);
            queueMicrotask(() => finish('cut', reason));
          },
          warn: (secondsLeft: number) => {
            void this.session.inject(warning(secondsLeft)).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'warning not injected'));
          },
          stillUp: () => dialogStillUp(uac),
          ...(state ? { state } : {}),
        },
        log,
      );
      onDialogEnd(uac, () => finish('far-end-hangup', 'answered'));
      this.interruptConnected = (why) => {
        void Promise.resolve(uac.destroy(why === 'rtp-timeout' ? { headers: cutReasonHeader('rtp_timeout') } : undefined)).catch(() => undefined);
        finish('hangup', why === 'rtp-timeout' ? 'rtp_timeout' : 'answered');
      };
      if (this.callerGone) this.interruptConnected('caller-gone');
    });
  }

  /** The caller's leg and the outbound one, with the SIP server holding them; undefined when the server is not known yet or a dialog lacks a field. */
  private legsWith(uac: unknown): CallLegs | undefined {
    const server = this.d.server?.();
    if (server === undefined) return undefined;
    try {
      return { server, caller: this.m.callerLeg(this.session.dialog), callee: calleeLegOf(uac as SrfDialogView) };
    } catch {
      return undefined;
    }
  }

  private async anotherCall(): Promise<IvrEventType> {
    this.outbound = undefined;
    await this.session.release();
    if (!this.d.settings.anotherCall || this.callerGone) return this.callerGone ? 'hangup' : 'done';
    const r = await this.session.collect({
      min: 1,
      max: 1,
      terminators: '',
      firstDigitMs: this.d.settings.firstDigitMs,
      interDigitMs: this.d.settings.interDigitMs,
      prompts: ['another-call'],
    });
    if (this.gone(r)) return 'hangup';
    return r.kind === 'digits' && r.digits === '1' ? 'another' : 'done';
  }
}
