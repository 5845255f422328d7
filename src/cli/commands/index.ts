/** Every command registers itself here; adding one touches no other command. */
import type { Command } from 'commander';
import { registerServer } from './server';
import { registerWorker } from './worker';
import { registerRun } from './run';
import { registerStatus } from './status';
import { registerCancel } from './cancel';
import { registerDoctor } from './doctor';
import { registerDemo } from './demo';
import { registerExtract } from './extract';
import { registerStats } from './stats';
import { registerExport } from './export';
import { registerResume } from './resume';
import { registerBundle } from './bundle';
import { registerPause } from './pause';
import { registerUnpause } from './unpause';
import { registerSet } from './set';

/** Adds all commands to the program. */
export function registerCommands(program: Command): void {
  for (const register of [registerServer, registerWorker, registerRun, registerStatus, registerCancel, registerDoctor, registerDemo, registerResume, registerBundle, registerPause, registerUnpause, registerSet, registerStats, registerExport, registerExtract]) register(program);
}
