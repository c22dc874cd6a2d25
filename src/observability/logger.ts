import pino from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/** Root logger. Secrets are redacted by path wherever they might appear. */
export function createLogger(level: string, name = 'softswitch'): Logger {
  return pino({
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
  });
}
