/** Locates the read-only real-data excerpts in ../shared beside the repo; tests skip with a message when absent. */
import { existsSync } from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const SHARED_DIR = path.resolve(REPO_ROOT, '..', 'shared');
export const SHARED_DATA = path.join(SHARED_DIR, 'data');

/** Absolute path of a file under ../shared/data, whether or not it exists. */
export function sharedData(relative: string): string {
  return path.join(SHARED_DATA, relative);
}

/** True when ../shared/data is present; tests use `describe.skipIf(!HAVE_SHARED_DATA)`. */
export const HAVE_SHARED_DATA = existsSync(SHARED_DATA);

/** Printed once by tests that skip for want of ../shared/data. */
export const SHARED_DATA_MISSING = `../shared/data not found at ${SHARED_DATA}: real-data tests skipped`;
