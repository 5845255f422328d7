/** The command line as users meet it: help, doctor with nothing running, a bad config. */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/devtools/temporal';
import { testDir } from '../support/harness';
import { REPO_ROOT } from '../support/shared-data';

function ultralink(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/ultralink.js'), ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** The README's way: `npx ultralink …`, where argv[1] is npm's .bin shim, not bin/ultralink.js. */
function npxUltralink(args: string[], cwd: string) {
  const r = spawnSync('npx', ['--no-install', '--prefix', REPO_ROOT, 'ultralink', ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('ultralink CLI', () => {
  it('--help lists every command', () => {
    const { status, out } = ultralink(['--help'], REPO_ROOT);
    expect(status).toBe(0);
    for (const command of ['server', 'worker', 'run', 'status', 'list', 'cancel', 'doctor', 'demo', 'resume', 'extract', 'stats', 'export']) {
      expect(out).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
  });

  it('runs as the README runs it: `npx ultralink --help` lists the commands, `npx ultralink doctor` with nothing running fails', async () => {
    const help = npxUltralink(['--help'], REPO_ROOT);
    expect(help.status).toBe(0);
    expect(help.out).toMatch(/^\s+demo\b/m);
    const dir = testDir('npx-doctor');
    const config = path.join(dir, 'c.yaml');
    writeFileSync(config, `stateDir: ${dir}\ntemporal: { address: 127.0.0.1:${await freePort()} }\nllm: { baseUrl: http://127.0.0.1:${await freePort()}/v1, model: m, timeoutMs: 2000 }\n`);
    const doctor = npxUltralink(['doctor', '-c', config], dir);
    expect(doctor.status).not.toBe(0);
    expect(doctor.out).toMatch(/FAIL\s+temporal/);
  });

  it('doctor with nothing running exits non-zero and names what is missing and how to fix it', async () => {
    const dir = testDir('doctor');
    const port = await freePort(); // nothing listens here
    const llmPort = await freePort();
    const config = path.join(dir, 'c.yaml');
    writeFileSync(config, `stateDir: ${dir}\ntemporal: { address: 127.0.0.1:${port} }\nllm: { baseUrl: http://127.0.0.1:${llmPort}/v1, model: m, timeoutMs: 2000 }\n`);
    const { status, out } = ultralink(['doctor', '-c', config], dir);
    expect(status).not.toBe(0);
    expect(out).toMatch(new RegExp(`FAIL\\s+temporal .*127\\.0\\.0\\.1:${port}`));
    expect(out).toMatch(/fix: start the dev server with `ultralink server`/);
    expect(out).toMatch(new RegExp(`FAIL\\s+llm .*127\\.0\\.0\\.1:${llmPort}`));
    expect(out).toMatch(/ok\s+storage/);
  });

  it.each([
    ['llm:\n  temperature: 9\n', /config field 'llm\.temperature'/],
    ['languages:\n  zh: { chatSpecific: -3 }\n', /config field 'languages\.zh\.chatSpecific'/],
    ['storage: { kind: s3 }\n', /config field 'storage\.bucket'/],
    ['seed: [1\n', /not valid YAML/],
  ])('a bad config exits non-zero with one message naming the field (%j) and starts nothing', (yaml, message) => {
    const dir = testDir('badconfig');
    const config = path.join(dir, 'bad.yaml');
    writeFileSync(config, yaml);
    const { status, out } = ultralink(['run', '-c', config], dir);
    expect(status).toBe(2);
    expect(out).toMatch(message);
    expect(out.trim().split('\n')).toHaveLength(1);
  });

  it('run checks every local input before starting: a missing dump, a missing SFT file and a missing prompt pack exit 2, all named, and nothing starts', async () => {
    const dir = testDir('preflight');
    const config = path.join(dir, 'c.yaml');
    const missingDump = path.join(dir, 'enwiki-mistyped.xml.bz2');
    const missingSft = path.join(dir, 'metamath-mistyped.json');
    // Nothing listens on the Temporal address: an exit 2 naming the inputs proves nothing tried to start a build.
    writeFileSync(
      config,
      [
        `stateDir: ${dir}`,
        `temporal: { address: 127.0.0.1:${await freePort()} }`,
        'languages:',
        `  en: { dump: ${missingDump}, chatSpecific: 2 }`,
        `  de: { fasttextLabel: de, dump: ${path.join(REPO_ROOT, 'package.json')}, chatSpecific: 2 }`,
        `agnostic: { sources: { math: [{ path: ${missingSft}, format: metamath }] } }`,
      ].join('\n') + '\n',
    );
    const { status, out } = ultralink(['run', '-c', config], dir);
    expect(status).toBe(2);
    expect(out).toContain('nothing started');
    expect(out).toContain(`languages.en.dump: ${missingDump} does not exist`);
    expect(out).toContain(`agnostic.sources.math[0].path: ${missingSft} does not exist`);
    expect(out).toMatch(/prompt pack \S*de\.dialogue\.yaml: cannot read/);
    expect(out).toMatch(/prompt pack \S*de\.translate\.yaml: cannot read/);
    expect(out).not.toMatch(/temporal|connect/i);
  });
});
