/**
 * Cost of a call under one rate: the only place the billing rounding rules live.
 * Pure functions over integers; invalid arguments are bugs and throw a RangeError.
 */
import { assertSafeInteger, ceilDiv, checkedAdd, checkedMul, formatDecimalMicros } from './money.ts';
import { assertValidRate, type Rate } from './rate.ts';

const MS_PER_SECOND = 1000;
const SECONDS_PER_MINUTE = 60;

/** Answered duration in whole seconds, rounded up from milliseconds (1 ms → 1 s, 1000 ms → 1 s). */
export function billableSecondsFromMs(ms: number): number {
  assertSafeInteger(ms, 'answered milliseconds', 0);
  return ceilDiv(ms, MS_PER_SECOND);
}

/**
 * Billed seconds for an answered duration of d whole seconds:
 *   d = 0           → 0 (unanswered or zero-length calls are not billed by time)
 *   0 < d ≤ initial → initial
 *   d > initial     → initial + ceil((d − initial) / subsequent) × subsequent
 * then, for d > 0, max(billed, minimumSeconds).
 */
export function billedSeconds(rate: Rate, answeredSeconds: number): number {
  assertValidRate(rate);
  assertSafeInteger(answeredSeconds, 'answered seconds', 0);
  return billedSecondsUnchecked(rate, answeredSeconds);
}

function billedSecondsUnchecked(rate: Rate, d: number): number {
  if (d === 0) return 0;
  const initial = rate.initialIncrement;
  const stepped = d <= initial ? initial : checkedAdd(initial, checkedMul(ceilDiv(d - initial, rate.subsequentIncrement), rate.subsequentIncrement));
  return Math.max(stepped, rate.minimumSeconds);
}

/**
 * Cost rules (integer micro-units), for an answered duration d in whole seconds:
 *
 *   billed = billedSeconds(rate, d)            (0 when d = 0; see billedSeconds)
 *   cost   = fee + ceil(pricePerMinute × billed / 60)
 *
 * where fee is the connection fee when it applies and 0 otherwise:
 *   - d > 0: the fee applies under every policy;
 *   - d = 0 and connectionFeePolicy 'answered' (the default): no fee, the cost is 0;
 *   - d = 0 and connectionFeePolicy 'always': the fee applies if the call was answered
 *     (`answered` = true with 0 ms of answered time, e.g. a BYE in the same millisecond as the
 *     answer); a call that was never answered costs 0.
 *
 * `answered` defaults to d > 0; passing answered = false with d > 0 is contradictory and throws.
 * Overflow of the safe-integer range throws a RangeError rather than rounding.
 */
export function callCost(rate: Rate, answeredSeconds: number, answered: boolean = answeredSeconds > 0): number {
  assertValidRate(rate);
  assertSafeInteger(answeredSeconds, 'answered seconds', 0);
  if (typeof answered !== 'boolean') throw new RangeError('answered must be a boolean');
  if (!answered && answeredSeconds > 0) {
    throw new RangeError(`a call with ${answeredSeconds} answered seconds cannot be unanswered`);
  }
  if (answeredSeconds === 0) {
    return answered && rate.connectionFeePolicy === 'always' ? rate.connectionFee : 0;
  }
  const billed = billedSecondsUnchecked(rate, answeredSeconds);
  const usage = ceilDiv(checkedMul(rate.pricePerMinute, billed), SECONDS_PER_MINUTE);
  return checkedAdd(rate.connectionFee, usage);
}

/**
 * The largest answered duration d ≤ capSeconds (whole seconds) with callCost(rate, d) ≤
 * availableMicros; 0 when not even the first increment (with connection fee and minimum) is
 * affordable, which callers read as "refuse the call". O(1):
 *
 *   cost(d) ≤ a  ⇔  ceil(p × billed / 60) ≤ a − fee  ⇔  billed ≤ B = floor(60 × (a − fee) / p)
 *
 * and billed(d) is a non-decreasing step function whose largest argument with billed(d) ≤ B is
 * initial + floor((B − initial) / subsequent) × subsequent, provided max(initial, minimum) ≤ B.
 * Intermediate products use bigint, so no amount overflows.
 */
export function maxAffordableSeconds(rate: Rate, availableMicros: number, capSeconds: number): number {
  assertValidRate(rate);
  assertSafeInteger(availableMicros, 'available micro-units', 0);
  assertSafeInteger(capSeconds, 'cap seconds', 0);
  if (capSeconds === 0 || rate.connectionFee > availableMicros) return 0;
  const firstBilled = Math.max(rate.initialIncrement, rate.minimumSeconds);
  if (rate.pricePerMinute === 0) return capSeconds;
  const remainder = BigInt(availableMicros - rate.connectionFee);
  const maxBilled = (BigInt(SECONDS_PER_MINUTE) * remainder) / BigInt(rate.pricePerMinute);
  if (maxBilled < BigInt(firstBilled)) return 0;
  const initial = BigInt(rate.initialIncrement);
  const subsequent = BigInt(rate.subsequentIncrement);
  const longest = initial + ((maxBilled - initial) / subsequent) * subsequent;
  return longest < BigInt(capSeconds) ? Number(longest) : capSeconds;
}

/**
 * Why a call of `maxCallSeconds` on this rate could not be rated, or undefined when it can: its
 * cost must be computable in safe integers and at most `limitMicros` (the largest amount the
 * system handles). Cost grows with duration, so a rate that passes can rate every call the hard
 * maximum allows. Tariff import refuses rates that fail; a call on one is refused, never a 500.
 */
export function maxCallCostProblem(rate: Rate, maxCallSeconds: number, limitMicros: number): string | undefined {
  assertValidRate(rate);
  assertSafeInteger(maxCallSeconds, 'max call seconds', 1);
  let billed = 'an overflowing number of';
  try {
    billed = String(billedSecondsUnchecked(rate, maxCallSeconds));
  } catch {
    /* reported below */
  }
  const terms = `fee ${formatDecimalMicros(rate.connectionFee)} + ${formatDecimalMicros(rate.pricePerMinute)}/min for ${billed} billed seconds`;
  let cost: number;
  try {
    cost = callCost(rate, maxCallSeconds);
  } catch {
    return `a call of ${maxCallSeconds} s (MAX_CALL_SECONDS) cannot be rated: ${terms} overflows the integer range`;
  }
  if (cost > limitMicros) {
    return `a call of ${maxCallSeconds} s (MAX_CALL_SECONDS) would cost ${formatDecimalMicros(cost)}, more than the largest amount handled (${formatDecimalMicros(limitMicros)}): ${terms}`;
  }
  return undefined;
}
