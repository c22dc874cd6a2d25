/**
 * RFC 3261 §16.7.6 as the reference ranks final responses when every target has failed: 6xx
 * first, then the "fixable" 401/407/415/420/484, then other 4xx, then 5xx, then the rest
 * (3xx). Among equals the earlier target wins.
 */
function rank(status: number): number {
  if (status >= 600) return 0;
  if (status === 401 || status === 407 || status === 415 || status === 420 || status === 484) return 1;
  if (status >= 400 && status <= 499) return 2;
  if (status >= 500 && status <= 599) return 3;
  return 4;
}

/** Index of the best of `statuses` (all ≥ 300), or -1 when there is none. */
export function bestResponseIndex(statuses: readonly number[]): number {
  let best = -1;
  for (let i = 0; i < statuses.length; i++) {
    const s = statuses[i] as number;
    if (best < 0 || rank(s) < rank(statuses[best] as number)) best = i;
  }
  return best;
}
