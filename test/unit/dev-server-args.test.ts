/** The dev server's command line: persistence in WAL mode only when a SQLite file is asked for. */
import { describe, expect, it } from 'vitest';
import { devServerArgs } from '../../src/devtools/temporal';

describe('devServerArgs', () => {
  it('runs a SQLite file in WAL mode with synchronous=normal', () => {
    const args = devServerArgs({ binary: 'temporal', port: 7233, namespace: 'default', dbFile: '/tmp/x/temporal.sqlite' });
    const pragmas = args.flatMap((a, i) => (args[i - 1] === '--sqlite-pragma' ? [a] : []));
    expect(args[args.indexOf('--db-filename') + 1]).toBe('/tmp/x/temporal.sqlite');
    expect(pragmas).toEqual(['journal_mode=wal', 'synchronous=normal']);
  });

  it('passes no pragma to an in-memory server', () => {
    const args = devServerArgs({ binary: 'temporal', port: 7233, namespace: 'default' });
    expect(args).not.toContain('--db-filename');
    expect(args).not.toContain('--sqlite-pragma');
  });
});
