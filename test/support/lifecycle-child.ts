// A process run by runAppProcess whose start and stop only report on stdout, one JSON line each
// (test/integration/process-lifecycle.test.ts). argv[2]: 'fail-start' or 'fail-stop' to make that step fail.
import { runAppProcess } from '../../src/common/process-lifecycle.ts';

const mode = process.argv[2] ?? '';
const say = (event: string, fields: object = {}) => process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);

runAppProcess({
  name: 'lifecycle child',
  signalMessage: 'stopping',
  start: async (config) => {
    if (mode === 'fail-start') throw new Error('port in use');
    const keepAlive = setInterval(() => undefined, 1000);
    // As the real processes do, announce from inside start (their "listening" log line).
    say('listening', { namespace: config.redisNamespace });
    await new Promise((resolve) => setTimeout(resolve, 20));
    let stops = 0;
    return {
      log: { info: (fields: object, message: string) => say('log', { fields, message }) },
      stop: async () => {
        stops += 1;
        say('stop', { stops });
        clearInterval(keepAlive);
        if (mode === 'fail-stop') throw new Error('pool would not close');
      },
    };
  },
  started: () => say('started'),
});
