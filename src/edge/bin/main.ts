/**
 * `softswitch-edge`: the embedded edge as its own process (so SIP parsing and the app do not
 * share one core). Reads its configuration from EDGE_* environment variables and CLI flags
 * (see src/edge/config/edge-config.ts), starts, and stops on SIGINT/SIGTERM the way
 * drachtio-server does: at once, with calls up. Nothing is drained and no BYE is sent (the app,
 * reconnecting to the next server, ends the calls it finds orphaned); sockets are closed without
 * waiting for peers (a control connection gets at most TERMINATE_GRACE_MS to take what was
 * already written).
 */
import { EDGE_USAGE, EdgeConfigError, loadEdgeConfig } from '../config/edge-config.ts';
import { EdgeServer } from '../core/edge-server.ts';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(EDGE_USAGE + '\n');
    return;
  }
  let config;
  try {
    config = loadEdgeConfig(process.env, argv);
  } catch (err) {
    if (err instanceof EdgeConfigError) {
      process.stderr.write(`${err.message}\n\n${EDGE_USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  const edge = new EdgeServer(config);
  const addresses = await edge.start();
  // One machine-readable line on stdout so a parent process (start script, benchmark) knows the ports.
  process.stdout.write(JSON.stringify({ event: 'edge-ready', ...addresses }) + '\n');
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void edge.stop().finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

process.on('uncaughtException', (err) => {
  process.stderr.write(`${JSON.stringify({ level: 'error', name: 'edge', msg: 'uncaught exception', err: String(err?.stack ?? err) })}\n`);
});
process.on('unhandledRejection', (err) => {
  process.stderr.write(`${JSON.stringify({ level: 'error', name: 'edge', msg: 'unhandled rejection', err: String(err) })}\n`);
});

main().catch((err: unknown) => {
  process.stderr.write(`edge failed to start: ${String(err)}\n`);
  process.exit(1);
});
