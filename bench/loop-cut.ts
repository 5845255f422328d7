/**
 * What cutting looping replies saves (src/core/text/loop.ts, applied by the embedded backend): reads every answer in
 * a build's response cache (e.g. a demo's `.ultralink/data/llm-cache`), finds where the backend would have stopped
 * each one (the first prefix, in steps of about a token's 4 characters, that ends in a loop), and prints the calls
 * cut, the tokens they generated and the share of those the cut spares (by characters). Also shows that no reply that
 * ended by itself would have been cut.
 *
 *   npx tsx bench/loop-cut.ts .ultralink/data/llm-cache
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { endsInLoop } from '../src/core/text/loop';

interface CachedResult {
  content: string;
  finishReason: string;
  completionTokens: number;
}

function main(): void {
  const root = process.argv[2];
  if (!root) throw new Error('usage: npx tsx bench/loop-cut.ts <llm-cache folder>');
  let calls = 0, generated = 0, cut = 0, cutTokens = 0, spared = 0, cutFinished = 0;
  for (const shard of readdirSync(root)) {
    for (const file of readdirSync(path.join(root, shard))) {
      const r = (JSON.parse(readFileSync(path.join(root, shard, file), 'utf8')) as { result: CachedResult }).result;
      calls += 1;
      generated += r.completionTokens;
      let at = -1;
      for (let i = 4; i <= r.content.length && at < 0; i += 4) if (endsInLoop(r.content.slice(0, i))) at = i;
      if (at < 0) continue;
      cut += 1;
      cutTokens += r.completionTokens;
      spared += Math.round(r.completionTokens * (1 - at / r.content.length));
      if (r.finishReason === 'stop') cutFinished += 1;
      console.log(`${r.finishReason} ${r.completionTokens} tokens, cut at ${at} of ${r.content.length} chars: …${JSON.stringify(r.content.slice(Math.max(0, at - 60), at))}`);
    }
  }
  console.log(`\n${cut} of ${calls} calls loop (${cutTokens} of ${generated} generated tokens); the cut spares ~${spared} tokens (${((100 * spared) / generated).toFixed(1)}% of all generated); replies that ended by themselves and would be cut: ${cutFinished}`);
}

main();
