#!/usr/bin/env node
// The published bin: the CLI is built to dist/cli.js (from src/cli.ts).
await import('../dist/cli.js');
