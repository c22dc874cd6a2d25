import { callCost, maxAffordableSeconds } from '../rating/index.ts';
import type { Rate } from '../rating/index.ts';

/**
 * Pure arithmetic of per-call credit control: how much a slice of call time costs, and how long
 * a call may last on the money it holds. "Minutes available" for the IVR and the real
 * reservation use these same functions, so simulation and commitment cannot disagree.
 */

/** Money to reserve to take a call from `heldSeconds` to `heldSeconds + sliceSeconds` of answered time. */
export function sliceCost(rate: Rate, heldSeconds: number, sliceSeconds: number): { min: number; want: number } {
  const base = heldSeconds === 0 ? 0 : callCost(rate, heldSeconds);
  const want = callCost(rate, heldSeconds + sliceSeconds) - base;
  // the least that buys at least one more second (the first billable unit on the first slice)
  const min = Math.max(callCost(rate, heldSeconds + 1) - base, heldSeconds === 0 ? 1 : 0);
  return { min: Math.min(min, want), want };
}

/** Longest answered duration the reserved money pays for, capped by the stale-call guard. */
export function secondsCovered(rate: Rate, reservedMicros: number, capSeconds: number): number {
  return maxAffordableSeconds(rate, Math.max(0, reservedMicros), capSeconds);
}

/**
 * The reservation deadline of an answered call (epoch ms), when its cover is `coveredSeconds`:
 * the sweeper may settle the call only after it. The process that runs the call next touches the
 * reservation at the extension (`covered − lead` after the answer, never later than the covered
 * second) or, when no extension is possible, at the cut (the covered second) and its settle, so
 * the deadline is the covered second plus the grace: whatever the rate's increments, minimum,
 * connection fee or the slice, the owner touches the reservation first, even if its timers run
 * up to the grace late. See docs/architecture.md, "Credit-control timing".
 */
export function answeredDeadline(answeredAt: number, coveredSeconds: number, graceSeconds: number): number {
  return answeredAt + (coveredSeconds + graceSeconds) * 1000;
}

/**
 * An upper bound of the cover an extension of `want` micro-units can give a call covered for
 * `coveredSeconds` (the extension sets its deadline before it knows exactly what the reservation
 * held). The money reserved so far buys `coveredSeconds` but not one second more, so it is below
 * callCost(covered + 1); the cover after adding `want` is at most what callCost(covered + 1) − 1
 * + want buys. Never below the exact cover; above it by less than one billing increment.
 */
export function coverAfterExtensionAtMost(rate: Rate, coveredSeconds: number, want: number, capSeconds: number): number {
  if (coveredSeconds >= capSeconds) return capSeconds;
  const below = callCost(rate, coveredSeconds + 1) - 1;
  if (!Number.isSafeInteger(below + want)) return capSeconds; // beyond any amount: the cap bounds the cover
  return Math.max(coveredSeconds, secondsCovered(rate, below + want, capSeconds));
}
