import pino from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/** Log lines are gathered up to this many bytes before one write (LOG_FLUSH_MS at the latest). */
export const LOG_BUFFER_BYTES = 4096;
/** The longest a log line waits in the buffer before it is written. */
export const LOG_FLUSH_MS = 250;

export interface LoggerOptions {
  /** Where lines go: a file descriptor or a path (default 1, standard output). */
  dest?: number | string;
}

/**
 * A buffered, asynchronous destination: lines are written in batches of up to LOG_BUFFER_BYTES,
 * and at least every LOG_FLUSH_MS, instead of one write(2) per line, which cost about 5 % of the
 * SIP app's CPU at 150 calls/s at info (3–4 lines per call; docs/performance-sip.md). pino flushes
 * what is left when the process exits (also through process.exit or an uncaught exception); only a
 * process killed outright (SIGKILL, out of memory) loses its last LOG_FLUSH_MS of lines.
 */
function bufferedDestination(dest: number | string): pino.DestinationStream {
  const stream = pino.destination({ dest, sync: false, minLength: LOG_BUFFER_BYTES });
  const flush = () => {
    try {
      stream.flush();
    } catch {
      /* closed or not open yet: nothing to write */
    }
  };
  // sonic-boom opens a path asynchronously: flushing before it is open would throw
  if (typeof dest === 'number') setInterval(flush, LOG_FLUSH_MS).unref();
  else stream.once('ready', () => setInterval(flush, LOG_FLUSH_MS).unref());
  return stream;
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
    bufferedDestination(opts.dest ?? 1),
  );
}
