/**
 * The local mail capture `npm start` runs: a real SMTP server (the `smtp-server` package) on
 * loopback that takes every mail and writes it, as it arrived, to a folder (one .eml file each,
 * readable with any mail program or a text editor). Development only: it accepts mail from anyone
 * who can reach loopback and delivers nothing onwards.
 *   npx tsx scripts/mail-capture.ts [port] [folder]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SMTPServer } from 'smtp-server';

const port = Number(process.argv[2] ?? 2525);
const dir = resolve(process.argv[3] ?? '.data/mail');
mkdirSync(dir, { recursive: true });
let n = 0;
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  size: 10 * 1024 * 1024,
  onData(stream, session, cb) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const to = session.envelope.rcptTo.map((a) => a.address).join(',');
      const file = `${dir}/${new Date().toISOString().replace(/[:.]/g, '-')}-${++n}-${to.replace(/[^A-Za-z0-9@._-]/g, '_').slice(0, 80)}.eml`;
      writeFileSync(file, Buffer.concat(chunks));
      process.stdout.write(`mail capture: mail to ${to} saved as ${file}\n`);
      cb();
    });
  },
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`mail capture: SMTP on 127.0.0.1:${port}; captured mails are written to ${dir}/\n`));
const stop = () => server.close(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
