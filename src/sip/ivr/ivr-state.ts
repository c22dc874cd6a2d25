/**
 * The access-number IVR of one caller, written down as a state machine. Each state has one
 * action (play, collect, authorise, dial…) that ends in one event; `nextIvrState` is the only
 * place that decides where that event leads, and it throws on an event the state cannot take.
 *
 *                 cli-login (caller ID registered, trusted, not withheld)
 *   welcome ────────────────────────────────────────────────┐
 *     │ pin-needed                                          │
 *     ▼                          pin-accepted               ▼
 *   pin-entry ──────────────────▶ offer-cli ── done ──▶ balance ── done ──▶ destination ◀───────────┐
 *     │ refused (3 wrong / locked)                                           │ destination           │
 *     │                                          no-destination ◀────────────┤                       │
 *     ▼                                                 │                    ▼                       │
 *   refusal ◀─────────── refused ─────────────────────── │ ───────────── authorising                   │ another
 *     │   (insufficient credit, unknown / blocked        │                    │ authorised            │
 *     │    destination, carrier failure, locked)         │                    ▼                       │
 *     │                   ◀──────── refused ─────────────│──────────────── dialling                  │
 *     │                                                  │                    │ answered              │
 *     │                                                  │                    ▼                       │
 *     │                                                  │                connected ── far-end-hangup ──▶ another-call
 *     │                                                  │                    │ cut (credit, maximum)       │ done
 *     ▼                                                  ▼                    ▼                             ▼
 *   goodbye ◀────────────────────────────────────────────┴────────────────────┴─────────────────────────────┘
 *     │ done
 *     ▼
 *   ended ◀── hangup (caller hung up, RTP timeout) from any state
 *
 * welcome may also go straight to refusal (`refused`: the caller ID is locked).
 *
 * A menu entered already logged in (a menu callback's leg A: AccessNumberCall.menu) starts at
 * balance; welcome, pin-entry and offer-cli are never reached.
 *
 * At the destination prompt, `9` (alone) tops the account up with a voucher:
 *
 *   destination ── voucher ──▶ voucher ── done (redeemed: new balance said; or not) ──▶ destination
 *                                 │ refused (voucher attempts used up)
 *                                 ▼
 *                               refusal
 */
export enum IvrState {
  Welcome = 'welcome',
  PinEntry = 'pin-entry',
  OfferCli = 'offer-cli',
  Balance = 'balance',
  Destination = 'destination',
  Authorising = 'authorising',
  Dialling = 'dialling',
  Connected = 'connected',
  AnotherCall = 'another-call',
  Voucher = 'voucher',
  Refusal = 'refusal',
  Goodbye = 'goodbye',
  Ended = 'ended',
}

export type IvrEventType =
  | 'cli-login'
  | 'pin-needed'
  | 'pin-accepted'
  | 'refused'
  | 'done'
  | 'destination'
  | 'no-destination'
  | 'voucher'
  | 'authorised'
  | 'answered'
  | 'far-end-hangup'
  | 'cut'
  | 'another'
  | 'hangup';

const NEXT: Record<IvrState, Partial<Record<IvrEventType, IvrState>>> = {
  [IvrState.Welcome]: { 'cli-login': IvrState.Balance, 'pin-needed': IvrState.PinEntry, refused: IvrState.Refusal },
  [IvrState.PinEntry]: { 'pin-accepted': IvrState.OfferCli, refused: IvrState.Refusal },
  [IvrState.OfferCli]: { done: IvrState.Balance },
  [IvrState.Balance]: { done: IvrState.Destination },
  [IvrState.Destination]: { destination: IvrState.Authorising, 'no-destination': IvrState.Goodbye, voucher: IvrState.Voucher },
  [IvrState.Voucher]: { done: IvrState.Destination, refused: IvrState.Refusal },
  [IvrState.Authorising]: { authorised: IvrState.Dialling, refused: IvrState.Refusal },
  [IvrState.Dialling]: { answered: IvrState.Connected, refused: IvrState.Refusal },
  [IvrState.Connected]: { 'far-end-hangup': IvrState.AnotherCall, cut: IvrState.Goodbye },
  [IvrState.AnotherCall]: { another: IvrState.Destination, done: IvrState.Goodbye },
  [IvrState.Refusal]: { done: IvrState.Goodbye },
  [IvrState.Goodbye]: { done: IvrState.Ended },
  [IvrState.Ended]: {},
};

export class IllegalIvrTransition extends Error {}

/** Where `event` leads from `state`; `hangup` ends any state but `ended`. */
export function nextIvrState(state: IvrState, event: IvrEventType): IvrState {
  if (event === 'hangup' && state !== IvrState.Ended) return IvrState.Ended;
  const next = NEXT[state][event];
  if (next === undefined) throw new IllegalIvrTransition(`IVR: no '${event}' in state ${state}`);
  return next;
}
