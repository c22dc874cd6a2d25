/** An illegal step in a transaction state machine: a bug in the caller, never swallowed. */
export class TransactionStateError extends Error {
  override readonly name = 'TransactionStateError';
  constructor(machine: string, state: string, event: string) {
    super(`${machine}: event ${event} is illegal in state ${state}`);
  }
}
