/**
 * RFC 3261 §17 timer values (Table 4 of RFC 3261 §A), with RFC 6026's Timers L and M.
 * Everything is derived from T1, T2 and T4 unless set explicitly.
 */

export interface TimerSettings {
  /** RTT estimate, default 500 ms (§17.1.1.1). */
  readonly T1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses, default 4 s (§17.1.2.2). */
  readonly T2: number;
  /** Maximum duration a message remains in the network, default 5 s (§17.1.2.2). */
  readonly T4: number;
  /** Timer B, INVITE transaction timeout: 64·T1 (§17.1.1.2). */
  readonly B: number;
  /**
   * Timer C, INVITE with a provisional but no final response (§16.6 step 11, > 3 min);
   * the reference stack applies it to UAC INVITEs as well: 185 s.
   */
  readonly C: number;
  /** Timer D, wait time for response retransmits: > 32 s for UDP, 0 for TCP (§17.1.1.2). */
  readonly D: number;
  /** Timer F, non-INVITE transaction timeout: 64·T1 (§17.1.2.2). */
  readonly F: number;
  /** Timer H, wait time for ACK receipt: 64·T1 (§17.2.1). */
  readonly H: number;
  /** Timer I, wait time for ACK retransmits: T4 for UDP, 0 for TCP (§17.2.1). */
  readonly I: number;
  /** Timer J, wait time for non-INVITE request retransmits: 64·T1 for UDP, 0 for TCP (§17.2.2). */
  readonly J: number;
  /** Timer K, wait time for response retransmits: T4 for UDP, 0 for TCP (§17.1.2.2). */
  readonly K: number;
  /** Timer L, wait time for accepted INVITE request retransmits: 64·T1 (RFC 6026 §8.7). */
  readonly L: number;
  /** Timer M, wait time for retransmission of 2xx to INVITE: 64·T1 (RFC 6026 §8.4). */
  readonly M: number;
  /**
   * Safety deadline for a server transaction whose TU never sends a final response (not in the
   * RFC; every pending thing has a deadline). Default 300 s.
   */
  readonly serverNoFinal: number;
}

/** Complete a partial setting: T1/T2/T4 first, the rest derived from them. */
export function timerSettings(overrides: Partial<TimerSettings> = {}): TimerSettings {
  const T1 = overrides.T1 ?? 500;
  const T2 = overrides.T2 ?? 4000;
  const T4 = overrides.T4 ?? 5000;
  const base: TimerSettings = {
    T1,
    T2,
    T4,
    B: 64 * T1,
    C: 185_000,
    D: 32_000,
    F: 64 * T1,
    H: 64 * T1,
    I: T4,
    J: 64 * T1,
    K: T4,
    L: 64 * T1,
    M: 64 * T1,
    serverNoFinal: 300_000,
  };
  return Object.freeze({ ...base, ...overrides });
}
