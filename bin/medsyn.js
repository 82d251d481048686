#!/usr/bin/env node
// The `medsyn` command: a thin shell over the programmatic API in dist/src (built by `npm ci` via `prepare`).
import { main } from '../dist/src/cli/main.js';

main(process.argv).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
