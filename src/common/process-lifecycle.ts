/**
 * How an app process starts and stops, shared by the SIP application (src/main.ts) and the account API
 * (src/api/api-main.ts):
 *
 *   1. load the configuration; a configuration error prints its message and exits 2
 *   2. start; a start-up failure prints `<name> failed to start: <message>` and exits 1
 *   3. on the first SIGINT or SIGTERM: log it, stop once, exit 0 (1 if stopping failed); a signal that
 *      arrives while starting is acted on once started; a second signal of the same name gets Node's
 *      default (the process ends at once)
 *
 * The embedded edge (src/edge/bin/main.ts) keeps its own: it imports nothing outside src/edge, and it
 * stops the way drachtio-server does (at once, calls up, always exit 0). The CLI is one-shot and has no
 * signal handling.
 */
import { ConfigError, loadConfig, type Config } from '../config/config.ts';

/** A started process: what a signal needs to stop it and say so. */
export interface RunningProcess {
  readonly log: { info(fields: object, message: string): void };
  stop(): Promise<void>;
}

export interface AppProcess<P extends RunningProcess> {
  /** As the process calls itself in messages (`softswitch`, `account API`). */
  readonly name: string;
  start(config: Config): Promise<P>;
  /** After start (e.g. print what was set up). */
  started?(running: P, config: Config): void;
  /** The log line a stop signal writes (`{ signal }` is its fields). */
  readonly signalMessage: string;
}

/** True when `moduleUrl` (a module's `import.meta.url`) is the script node was started with. */
export function isEntryModule(moduleUrl: string): boolean {
  return moduleUrl === `file://${process.argv[1]}`;
}

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Steps 1–3 above. Returns at once; the process lives on its servers and timers. */
export function runAppProcess<P extends RunningProcess>(app: AppProcess<P>): void {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // Handlers first: the processes announce themselves (log "listening") inside start, and whoever reads that
  // may signal at once. A signal during start-up stops the process as soon as it has started.
  let running: P | undefined;
  let signalled: string | undefined;
  const stop = (p: P, signal: string) => {
    p.log.info({ signal }, app.signalMessage);
    void p.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  for (const signal of STOP_SIGNALS) {
    process.once(signal, () => {
      if (signalled !== undefined) return;
      signalled = signal;
      if (running) stop(running, signal);
    });
  }
  app.start(config).then(
    (started) => {
      running = started;
      if (signalled !== undefined) {
        stop(started, signalled);
        return;
      }
      app.started?.(started, config);
    },
    (err: Error) => {
      process.stderr.write(`${app.name} failed to start: ${err.message}\n`);
      process.exit(1);
    },
  );
}
