/**
 * Which connections registered which verbs, and the round-robin choice among them.
 *
 * §3.1: `(connection, verb)` is a set, so srf's repeated `route` frames cause no double delivery.
 * §3.2: `remove_route` removes only the named verb (the reference removes all; a bug).
 * §3.3: a new out-of-dialog request goes round-robin among live connections that registered
 * the lower-cased method; none → the caller answers 503.
 *
 * Call-ID affinity (not in drachtio-server): a new INVITE whose Call-ID was handed out in the last
 * `AFFINITY_MS` goes to the same connection and does not move the round-robin on. A device's call
 * is two INVITEs with one Call-ID (the one challenged 407 and the one with credentials); plain
 * round-robin gave, with two app processes, every challenge to one and every call to the other.
 */
import type { AppConnection } from './app-connection.ts';

/** How long a Call-ID stays with its connection (64·T1: an INVITE transaction's lifetime). */
export const AFFINITY_MS = 32_000;
const AFFINITY_MAX = 100_000;

interface VerbEntry {
  connections: AppConnection[];
  cursor: number;
}

export class RouteRegistry {
  private readonly byVerb = new Map<string, VerbEntry>();
  private readonly affinity = new Map<string, { connection: AppConnection; at: number }>();

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

  /**
   * §3.3 step 2: round-robin, skipping dead connections; with `callId` (new INVITEs), the
   * connection that had that Call-ID within AFFINITY_MS if it is still open and serves the verb.
   */
  choose(verb: string, callId?: string, now = 0): AppConnection | undefined {
    if (callId === undefined) return this.next(verb);
    const known = this.affinity.get(callId);
    if (known !== undefined && now - known.at < AFFINITY_MS && known.connection.isOpen && known.connection.verbs.has(verb)) {
      return known.connection;
    }
    const chosen = this.next(verb);
    if (chosen === undefined) return undefined;
    this.affinity.delete(callId);
    if (this.affinity.size >= AFFINITY_MAX) {
      // the oldest first (insertion order); expired ones are dropped as they are met
      for (const [k, v] of this.affinity) {
        if (this.affinity.size < AFFINITY_MAX && now - v.at < AFFINITY_MS) break;
        this.affinity.delete(k);
      }
    }
    this.affinity.set(callId, { connection: chosen, at: now });
    return chosen;
  }

  private next(verb: string): AppConnection | undefined {
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
