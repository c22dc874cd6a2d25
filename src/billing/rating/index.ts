/** Rating: the pure library of rates, tariffs, call cost and tariff CSV. No I/O. */
export {
  CONNECTION_FEE_POLICIES,
  DEFAULT_CONNECTION_FEE_POLICY,
  rateProblems,
  assertValidRate,
  type ConnectionFeePolicy,
  type Rate,
  type RateProblem,
} from './rate.ts';
export { billableSecondsFromMs, billedSeconds, callCost, maxAffordableSeconds, maxCallCostProblem } from './cost.ts';
export { Tariff, TariffConflictError } from './tariff.ts';
export {
  parseTariffCsv,
  tariffToCsv,
  TARIFF_CSV_COLUMNS,
  type TariffCsvColumn,
  type TariffCsvError,
  type TariffCsvResult,
  type TariffLimits,
} from './tariff-csv.ts';
export { ceilDiv, formatDecimalMicros, parseDecimalMicros } from './money.ts';
