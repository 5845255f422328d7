/**
 * Live progress of a build for the terminal: one line per language × stage from the search attributes the
 * workflows upsert (the same data the Temporal UI's list shows). Redraws in a TTY; prints changes otherwise.
 */
import type { Client } from '@temporalio/client';

interface Row {
  key: string;
  text: string;
}

/** Polls the build's workflows until `stop()`; returns the stopper. */
export function watchBuild(client: Client, buildId: string, out: NodeJS.WriteStream = process.stdout, everyMs = 2_000): { stop(): Promise<void> } {
  let last = new Map<string, string>();
  let drawn = 0;
  let stopped = false;
  const tick = async () => {
    const rows: Row[] = [];
    for await (const w of client.workflow.list({ query: `UltralinkBuild = '${buildId}'` })) {
      const sa = w.searchAttributes as Record<string, unknown[] | undefined>;
      const lang = String(sa.UltralinkLanguage?.[0] ?? '*');
      const stage = String(sa.UltralinkStage?.[0] ?? w.type);
      if (w.workflowId === buildId) continue;
      const pct = sa.UltralinkProgress?.[0];
      const done = sa.UltralinkDone?.[0];
      const bar = typeof pct === 'number' ? `${'█'.repeat(Math.round(pct / 5)).padEnd(20, '░')} ${String(pct).padStart(3)}%` : ''.padEnd(25);
      rows.push({ key: `${lang}/${stage}`, text: `${lang.padEnd(3)} ${stage.padEnd(14)} ${bar} ${done !== undefined ? `done=${done}` : ''} ${w.status.name.toLowerCase()}` });
    }
    rows.sort((a, b) => a.key.localeCompare(b.key));
    if (out.isTTY) {
      if (drawn > 0) out.write(`\x1b[${drawn}A`);
      for (const r of rows) out.write(`\x1b[2K${r.text}\n`);
      drawn = rows.length;
    } else {
      const now = new Map(rows.map((r) => [r.key, r.text]));
      for (const [k, t] of now) if (last.get(k) !== t) out.write(`${t}\n`);
      last = now;
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await tick().catch(() => undefined); // the UI list lags a moment behind; a missed poll is harmless
      await new Promise((r) => setTimeout(r, everyMs));
    }
    await tick().catch(() => undefined);
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
