/**
 * `ultralink stats` and `ultralink export` as a user runs them (child processes of bin/ultralink.js) on a small
 * hand-made dataset folder: both tables printed with hand-computed values, Figure 13 written, export round trips
 * with and without the document as a system turn, and `stats` on an S3 prefix served by MinIO.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toolEnv } from '../../src/config';
import { frameFirstTurn } from '../../src/core/dialogue/format';
import { countTokens } from '../../src/core/text/tokens';
import { startMinio, type MinioServer } from '../../src/devtools/minio';
import { loadDialoguePack } from '../../src/prompts/load';
import { REPO_ROOT } from '../support/shared-data';

const run = promisify(execFile);

/** Runs the CLI; never throws, so a test can assert on a failing exit too. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(REPO_ROOT, 'bin/ultralink.js'), ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

type Line = { id: string; data: string[] };

const en = loadDialoguePack('en');
const zh = loadDialoguePack('zh');
const DOC_A = 'Rome is the capital of Italy. According to legend it was founded by Romulus in 753 BC, and it later ruled an empire around the Mediterranean.';
const DOC_B = 'The Nile is a major river in north-eastern Africa. It flows north through Egypt and empties into the Mediterranean Sea near Alexandria.';
const DOC_Z = '长江是中国最长的河流，发源于青藏高原，向东流经多个省份，最后在上海附近注入东海。';
const Q = {
  a: 'Why is Rome called the eternal city?',
  b: 'Where does the Nile end?',
  z: '长江最后流入哪里？',
};
/** The hand-made dataset: sidecar for en_0 and zh_0; en_1 has none, so its document is found by the en template. */
const FILES: Record<string, Line[]> = {
  'en_chat_specific.jsonl': [
    { id: 'en_chat_specific_0', data: [frameFirstTurn(en, DOC_A, Q.a), 'Romans believed their city would last forever, and it stayed important for nearly three thousand years.', 'Who founded it?', 'According to legend, the twins Romulus and Remus founded the city.'] },
    { id: 'en_chat_specific_1', data: [frameFirstTurn(en, DOC_B, Q.b), 'The Nile empties into the Mediterranean Sea through a wide delta north of Cairo.'] },
  ],
  'zh_chat_specific.jsonl': [{ id: 'zh_chat_specific_0', data: [frameFirstTurn(zh, DOC_Z, Q.z), '长江在上海附近注入东海，河口处形成了宽阔的三角洲。'] }],
  'zh_math.jsonl': [
    { id: 'zh_math_0', data: ['小明有三个苹果，又买了两个，现在一共有几个苹果？', '小明原来有三个苹果，又买了两个，所以一共有五个苹果。答案是：5'] },
    { id: 'zh_math_1', data: ['一个长方形长四米、宽三米，它的面积是多少平方米？', '长方形的面积等于长乘以宽，四乘以三等于十二，所以面积是十二平方米。'] },
  ],
};
const SIDECARS: Record<string, object[]> = {
  'en_chat_specific.meta.jsonl': [{ id: 'en_chat_specific_0', question: Q.a, document: DOC_A }],
  'zh_chat_specific.meta.jsonl': [{ id: 'zh_chat_specific_0', question: Q.z, document: DOC_Z }],
};
const BARE: Record<string, string> = { en_chat_specific_0: Q.a, en_chat_specific_1: Q.b, zh_chat_specific_0: Q.z };
const DOCS: Record<string, string> = { en_chat_specific_0: DOC_A, en_chat_specific_1: DOC_B, zh_chat_specific_0: DOC_Z };

const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

/** Table 1's first row computed by hand: each question is counted without its document. */
function handTable1(): { dialogues: number; turns: number; question: number; answer: number } {
  let dialogues = 0;
  let turns = 0;
  let q = 0;
  let a = 0;
  for (const lines of Object.values(FILES)) {
    for (const l of lines) {
      dialogues += 1;
      for (let t = 0; t < l.data.length / 2; t++) {
        turns += 1;
        q += countTokens(t === 0 && BARE[l.id] ? BARE[l.id] : l.data[2 * t]);
        a += countTokens(l.data[2 * t + 1]);
      }
    }
  }
  return { dialogues, turns, question: q / turns, answer: a / turns };
}

/** Cells of the markdown table row whose first cell is `name`. */
function row(stdout: string, name: string): string[] {
  const cells = stdout.split('\n').filter((l) => l.startsWith('|')).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
  const found = cells.find((c) => c[0] === name);
  if (!found) throw new Error(`no row ${name} in:\n${stdout}`);
  return found;
}

/** Language of each bar group in a Figure 13 SVG, with its bar kinds. */
function barGroups(svg: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of svg.matchAll(/<path aria-label="(\S+) (question|answer): [\d.]+" role="graphics-symbol" aria-roledescription="bar"/g)) (out[m[1]] ??= []).push(m[2]);
  for (const kinds of Object.values(out)) kinds.sort();
  return out;
}

let root: string;
let dataset: string;
/** stdout of `stats` on the local folder, compared with the S3 run. */
let localStats = '';
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'ul-cli-stats-'));
  dataset = path.join(root, 'dataset');
  mkdirSync(dataset);
  for (const [name, rows] of Object.entries({ ...FILES, ...SIDECARS })) writeFileSync(path.join(dataset, name), jsonl(rows));
  writeFileSync(path.join(dataset, 'manifest.json'), '{}\n');
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('ultralink stats', () => {
  it('prints Tables 1 and 2 with the hand-computed values and writes the chart and report into the folder', async () => {
    const r = await cli(['stats', dataset]);
    expect(r.stderr).not.toMatch(/ultralink:/);
    expect(r.code).toBe(0);
    localStats = r.stdout;
    expect(r.stdout).toContain('Table 1:');
    expect(r.stdout).toContain('Table 2:');
    const hand = handTable1();
    expect(row(r.stdout, 'UltraLink (this build)')).toEqual([
      'UltraLink (this build)',
      String(hand.dialogues),
      String(hand.turns),
      hand.question.toFixed(2),
      hand.answer.toFixed(2),
      (hand.question + hand.answer).toFixed(2),
    ]);
    // Table 2: Lang.Spec. Chat, Lang.Agno. Chat, Math, Code, Total
    expect(row(r.stdout, 'En').slice(1)).toEqual(['2', '0', '0', '0', '2']);
    expect(row(r.stdout, 'Zh').slice(1)).toEqual(['1', '0', '2', '0', '3']);
    expect(row(r.stdout, 'UltraLink').slice(1)).toEqual(['3', '0', '2', '0', '5']);
    expect(row(r.stdout, 'w/o En').slice(1)).toEqual(['1', '0', '2', '0', '3']);

    for (const name of ['stats.json', 'tables.md', 'figure13.svg', 'quality.json', 'quality-sample.md']) expect(existsSync(path.join(dataset, name)), name).toBe(true);
    expect(barGroups(readFileSync(path.join(dataset, 'figure13.svg'), 'utf8'))).toEqual({ en: ['answer', 'question'], zh: ['answer', 'question'] });
    // what was printed is what tables.md keeps
    expect(r.stdout).toContain(readFileSync(path.join(dataset, 'tables.md'), 'utf8').trimEnd());
  });

  it('fails with one message on a folder without dataset files', async () => {
    const empty = path.join(root, 'empty');
    mkdirSync(empty, { recursive: true });
    const r = await cli(['stats', empty]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no {lang}_{subset}.jsonl files');
  });
});

describe('ultralink export', () => {
  /** Exported records of one file, by id: roles in order and the texts. */
  function readExport(dir: string, file: string): Map<string, Array<{ role: string; text: string }>> {
    const out = new Map<string, Array<{ role: string; text: string }>>();
    for (const text of readFileSync(path.join(dir, file), 'utf8').split('\n').filter((l) => l.length > 0)) {
      const rec = JSON.parse(text) as { id: string; conversations?: Array<{ from: string; value: string }>; messages?: Array<{ role: string; content: string }> };
      const msgs = rec.conversations ? rec.conversations.map((m) => ({ role: m.from, text: m.value })) : rec.messages!.map((m) => ({ role: m.role, text: m.content }));
      out.set(rec.id, msgs);
    }
    return out;
  }

  const cases = [
    { format: 'sharegpt', user: 'human', assistant: 'gpt', system: 'system' },
    { format: 'messages', user: 'user', assistant: 'assistant', system: 'system' },
  ];
  for (const c of cases) {
    it(`round-trips every file as ${c.format}: records parse and turn counts equal the source's`, async () => {
      const out = path.join(root, `out-${c.format}`);
      const r = await cli(['export', dataset, '--format', c.format, '--out', out]);
      expect(r.stderr).not.toMatch(/ultralink:/);
      expect(r.code).toBe(0);
      expect(readdirSync(out).sort()).toEqual(Object.keys(FILES).sort());
      for (const [file, lines] of Object.entries(FILES)) {
        const exported = readExport(out, file);
        expect([...exported.keys()]).toEqual(lines.map((l) => l.id));
        for (const l of lines) {
          const msgs = exported.get(l.id)!;
          expect(msgs.filter((m) => m.role === c.assistant)).toHaveLength(l.data.length / 2);
          expect(msgs.map((m) => m.text)).toEqual(l.data);
          expect(msgs.map((m) => m.role)).toEqual(l.data.map((_, i) => (i % 2 === 0 ? c.user : c.assistant)));
        }
      }
    });
  }

  it('moves the grounding document into a system turn, from the sidecar or else the template', async () => {
    const out = path.join(root, 'out-system');
    const r = await cli(['export', dataset, '--format', 'messages', '--document-as-system', '--out', out]);
    expect(r.code).toBe(0);
    expect(row(r.stdout, 'en_chat_specific.jsonl')).toEqual(['en_chat_specific.jsonl', '2', '3', '2', '0']);
    for (const [file, lines] of Object.entries(FILES)) {
      const exported = readExport(out, file);
      for (const l of lines) {
        const msgs = exported.get(l.id)!;
        expect(msgs.filter((m) => m.role === 'assistant'), l.id).toHaveLength(l.data.length / 2);
        if (DOCS[l.id]) {
          expect(msgs[0], l.id).toEqual({ role: 'system', text: DOCS[l.id] });
          expect(msgs[1], l.id).toEqual({ role: 'user', text: BARE[l.id] });
          expect(msgs.slice(2).map((m) => m.text)).toEqual(l.data.slice(1));
        } else {
          expect(msgs.map((m) => m.text), l.id).toEqual(l.data);
        }
      }
    }
  });

  it('rejects an unknown format naming the valid ones', async () => {
    const r = await cli(['export', dataset, '--format', 'alpaca']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unknown format 'alpaca'");
    expect(r.stderr).toContain('sharegpt, messages');
  });
});

describe('ultralink stats on an S3 prefix (MinIO)', () => {
  let minio: MinioServer;
  let s3: S3Client;
  beforeAll(async () => {
    minio = await startMinio({ cacheDir: toolEnv().cacheDir, dataDir: path.join(root, 'minio'), log: (m) => console.log(m) });
    s3 = new S3Client({ endpoint: minio.endpoint, region: minio.region, forcePathStyle: true, credentials: { accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey } });
    for (const [name, rows] of Object.entries({ ...FILES, ...SIDECARS })) {
      await s3.send(new PutObjectCommand({ Bucket: minio.bucket, Key: `runs/r1/dataset/${name}`, Body: jsonl(rows) }));
    }
  });
  afterAll(async () => {
    s3?.destroy();
    await minio?.stop();
  });

  it('prints the same tables as for the local folder and writes the chart under the prefix', async () => {
    const uri = `s3://${minio.bucket}/runs/r1/dataset?endpoint=${encodeURIComponent(minio.endpoint)}&region=${minio.region}`;
    const r = await cli(['stats', uri], minio.env);
    expect(r.stderr).not.toMatch(/ultralink:/);
    expect(r.code).toBe(0);
    const tables = (s: string) => s.slice(s.indexOf('Table 1:'), s.indexOf('Quality:'));
    expect(tables(r.stdout)).toContain('| UltraLink (this build) |');
    expect(tables(r.stdout)).toEqual(tables(localStats));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: minio.bucket, Prefix: 'runs/r1/dataset/' }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!.slice('runs/r1/dataset/'.length));
    expect(keys).toEqual(expect.arrayContaining(['stats.json', 'tables.md', 'figure13.svg', 'quality.json', 'quality-sample.md']));
    const svg = await (await s3.send(new GetObjectCommand({ Bucket: minio.bucket, Key: 'runs/r1/dataset/figure13.svg' }))).Body!.transformToString();
    expect(barGroups(svg)).toEqual({ en: ['answer', 'question'], zh: ['answer', 'question'] });
  });
});
