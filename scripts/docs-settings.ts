// Prints the configuration table of docs/operations.md from the code: npx tsx scripts/docs-settings.ts
import { describeSettings } from '../src/config/config.ts';

for (const s of describeSettings()) {
  const def = s.default === undefined ? '(required)' : s.default === '' ? '(empty)' : `\`${s.default}\``;
  process.stdout.write(`| \`${s.env}\` | ${def} | ${s.doc} |\n`);
}
