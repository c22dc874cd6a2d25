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
