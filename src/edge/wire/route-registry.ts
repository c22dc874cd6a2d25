/**
 * Which connections registered which verbs, and the round-robin choice among them.
 *
 * §3.1: `(connection, verb)` is a set, so srf's repeated `route` frames cause no double delivery.
 * §3.2: `remove_route` removes only the named verb (the reference removes all; a bug).
 * §3.3: a new out-of-dialog request goes round-robin among live connections that registered
 * the lower-cased method; none → the caller answers 503.
 */
import type { AppConnection } from './app-connection.ts';

interface VerbEntry {
  connections: AppConnection[];
  cursor: number;
}

export class RouteRegistry {
  private readonly byVerb = new Map<string, VerbEntry>();

  add(connection: AppConnection, verb: string): void {
    if (connection.verbs.has(verb)) return;
    connection.verbs.add(verb);
    let entry = this.byVerb.get(verb);
    if (!entry) {
      entry = { connections: [], cursor: 0 };
      this.byVerb.set(verb, entry);
    }
    entry.connections.push(connection);
  }

  remove(connection: AppConnection, verb: string): void {
    if (!connection.verbs.delete(verb)) return;
    const entry = this.byVerb.get(verb);
    if (!entry) return;
    entry.connections = entry.connections.filter((c) => c !== connection);
    if (entry.connections.length === 0) this.byVerb.delete(verb);
  }

  removeConnection(connection: AppConnection): void {
    for (const verb of [...connection.verbs]) this.remove(connection, verb);
  }

  /** §3.3 step 2: round-robin, skipping dead connections. */
  choose(verb: string): AppConnection | undefined {
    const entry = this.byVerb.get(verb);
    if (!entry) return undefined;
    const n = entry.connections.length;
    for (let i = 0; i < n; i++) {
      const candidate = entry.connections[(entry.cursor + i) % n] as AppConnection;
      if (candidate.isOpen) {
        entry.cursor = (entry.cursor + i + 1) % n;
        return candidate;
      }
    }
    return undefined;
  }
}
