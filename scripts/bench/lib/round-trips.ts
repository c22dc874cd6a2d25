/**
 * Counts the Redis round trips a client makes: every command sent on its own is one, a pipeline
 * (MULTI or not) is one however many commands it carries. A script call (EVALSHA) is one round
 * trip, whatever it does inside Redis; INFO commandstats counts the commands a script runs too,
 * which is why both figures are reported. Counting happens in this process, on the client.
 */
import type { Redis } from 'ioredis';

export interface RoundTrips {
  /** Round trips so far. */
  readonly total: number;
  /** Commands so far, by name (a script call as `evalsha`). */
  readonly commands: Map<string, number>;
  reset(): void;
}

type Sendable = { name: string; args: unknown[]; pipelineIndex?: number };

/** A script call's name as defined with defineCommand (`evalsha` when unknown). */
function nameOf(redis: Redis, command: Sendable): string {
  if (command.name !== 'evalsha' && command.name !== 'eval') return command.name;
  const scripts = (redis as unknown as { scriptsSet?: Record<string, { sha: string; lua: string }> }).scriptsSet ?? {};
  const sha = command.name === 'evalsha' ? command.args[0] : undefined;
  for (const [name, s] of Object.entries(scripts)) if (s.sha === sha || s.lua === command.args[0]) return `script:${name}`;
  return command.name;
}

/** Wraps `redis.sendCommand` of one client; the counts are this client's alone. */
export function countRoundTrips(redis: Redis): RoundTrips {
  const state = { total: 0, commands: new Map<string, number>() };
  const send = redis.sendCommand.bind(redis) as (command: Sendable, stream?: unknown) => unknown;
  (redis as unknown as { sendCommand: (command: Sendable, stream?: unknown) => unknown }).sendCommand = (command, stream) => {
    // a pipeline hands every command with its own write stream; the first one opens the round trip
    if (stream === undefined || command.pipelineIndex === 0) state.total++;
    const name = nameOf(redis, command);
    state.commands.set(name, (state.commands.get(name) ?? 0) + 1);
    return send(command, stream);
  };
  return {
    get total() {
      return state.total;
    },
    get commands() {
      return state.commands;
    },
    reset() {
      state.total = 0;
      state.commands.clear();
    },
  };
}
