#!/usr/bin/env node
'use strict';
// Runs the TypeScript sources directly (tsx), so a fresh clone needs no build step. The CLI is called here, not
// on import: under npx, npm link or a global install argv[1] is a shim, so main.ts cannot tell it was started.
require('tsx/cjs');
require('../src/cli/main.ts').main(process.argv);
