import pino from 'pino';
import type { Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** Where lines go: a file descriptor or a path (default 1, standard output). */
  dest?: number | string;
}

/** Root logger. Secrets are redacted by path wherever they might appear. */
export function createLogger(level: string, name = 'softswitch', opts: LoggerOptions = {}): Logger {
  return pino(
    {
      name,
      level,
      redact: {
        paths: [
          'pin',
          '*.pin',
          'password',
          '*.password',
          'pinPepper',
          '*.pinPepper',
          'ha1',
          '*.ha1',
          'authorization',
          '*.authorization',
          'req.headers.authorization',
          'req.headers.cookie',
        ],
        censor: '[redacted]',
      },
    },
    // one synchronous write per line, as pino does by default: a line is out before the next
    // statement runs, and none is lost when the process dies. Buffering them (pino.destination with
    // minLength) measured no cheaper per line (docs/performance-sip.md): pino's serialisation is
    // the cost, not the write.
    pino.destination({ dest: opts.dest ?? 1, sync: true }),
  );
}
