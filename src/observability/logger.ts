import pino from 'pino';
import type { Logger } from 'pino';
import { personalDataSerializers } from './log-privacy.ts';

export type { Logger };

export interface LoggerOptions {
  /** Where lines go: a file descriptor or a path (default: standard output). */
  dest?: number | string;
  /** `mask` (default): personal values in log fields masked (log-privacy.ts); `full`: as they are. */
  personalData?: 'mask' | 'full';
}

/** Root logger. Secrets are redacted by path wherever they might appear; personal data masked unless `personalData: 'full'`. */
export function createLogger(level: string, name = 'softswitch', opts: LoggerOptions = {}): Logger {
  const options: pino.LoggerOptions = {
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
    ...(opts.personalData === 'full' ? {} : { serializers: personalDataSerializers() }),
  };
  // pino's own destination: standard output, written asynchronously line by line (a slow reader
  // does not stall the event loop) and flushed when the process exits; another file the same way.
  // Buffering lines into larger writes measured no cheaper (docs/performance-sip.md): pino's
  // serialisation is the cost, not the write.
  return opts.dest === undefined ? pino(options) : pino(options, pino.destination({ dest: opts.dest, sync: false }));
}
