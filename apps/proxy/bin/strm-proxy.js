#!/usr/bin/env node
// The published bin: the CLI is built to dist/cli.js (from src/cli.ts). Concurrent marking goes
// off first, before the CLI's modules grow the heap (marking-at-start.js).
import './marking-at-start.js';

await import('../dist/cli.js');
