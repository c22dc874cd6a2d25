#!/usr/bin/env node
// Launches the embedded SIP edge (src/edge/bin/main.ts) through tsx's ESM loader.
import 'tsx/esm';
await import('../src/edge/bin/main.ts');
