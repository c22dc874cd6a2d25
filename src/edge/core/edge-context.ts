/**
 * What the request and command handlers of the core share: the layers below, the tables of
 * live state, and the edge configuration. Built once by EdgeServer.
 */
import type { EdgeConfig } from '../config/edge-config.ts';
import type { TransportPort } from '../transport/index.ts';
import type { Clock, TransactionLayer } from '../transaction/index.ts';
import type { DialogTable } from '../dialog/dialog-table.ts';
import type { Dialog } from '../dialog/dialog.ts';
import type { AppConnection } from '../wire/app-connection.ts';
import type { RouteRegistry } from '../wire/route-registry.ts';
import type { ClientRequestTable } from './client-request-table.ts';
import type { EdgeLogger } from './edge-logger.ts';
import type { LocalAddresses } from './local-addresses.ts';
import type { NextHopResolver } from './next-hop-resolver.ts';
import type { ServerRequestTable } from './server-request-table.ts';

export interface EdgeContext {
  readonly config: EdgeConfig;
  readonly log: EdgeLogger;
  readonly transport: TransportPort;
  readonly layer: TransactionLayer;
  readonly clock: Clock;
  readonly dialogs: DialogTable<AppConnection>;
  readonly serverRequests: ServerRequestTable;
  readonly clientRequests: ClientRequestTable;
  readonly routes: RouteRegistry;
  readonly resolver: NextHopResolver;
  readonly local: LocalAddresses;
}

/** A dialog owned by an admin connection. */
export type EdgeDialog = Dialog<AppConnection>;
