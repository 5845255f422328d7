#!/usr/bin/env node
'use strict';
// Runs the TypeScript sources directly (tsx), so a fresh clone needs no build step.
require('tsx/cjs');
require('../src/cli/main.ts');
