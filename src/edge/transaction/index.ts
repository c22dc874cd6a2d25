/**
 * The SIP transaction layer (RFC 3261 §17, RFC 6026). Imports only ../message and ../transport.
 *
 *   const layer = new TransactionLayer(transport, tu, { timers, clock });
 *   await transport.start(layer);
 *   tu.onRequest(txn, req, src) → txn.respond(createResponse(req, 200, { toTag }))
 *   layer.sendRequest(req, target, { onResponse, onTimeout, onTransportError })
 *   layer.sendStateless(ackFor2xx, target)
 */
export type { ClientTransaction, ClientTransactionUser, ScreenVerdict, ServerTransaction, TimeoutTimer, TransactionUser } from './transaction-user.ts';
export { TransactionLayer, type SendRequestOptions, type TransactionLayerOptions } from './transaction-layer.ts';
export { TransactionStateError } from './transaction-state-error.ts';
export { systemClock, type Clock, type TimerHandle } from './clock.ts';
export { timerSettings, type TimerSettings } from './timer-settings.ts';
export { serverKey, clientKey } from './transaction-layer.ts';
export { InviteServerTransaction, IstState } from './invite-server-transaction.ts';
export { NonInviteServerTransaction, NistState } from './non-invite-server-transaction.ts';
export { InviteClientTransaction, IctState } from './invite-client-transaction.ts';
export { NonInviteClientTransaction, NictState } from './non-invite-client-transaction.ts';
