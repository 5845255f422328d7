/** Installs (idempotently, cached under ~/.cache/ultralink) the real services the tests run against. */
import { toolEnv } from '../src/config';
import { ensureTemporalBinary } from '../src/devtools/temporal';
import { ensureMinioBinary } from '../src/devtools/minio';

async function main(): Promise<void> {
  const { cacheDir } = toolEnv();
  const log = (m: string) => console.log(`ensure-tools: ${m}`);
  let t = Date.now();
  const temporal = ensureTemporalBinary(cacheDir, log);
  log(`temporal CLI ${temporal} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  t = Date.now();
  const minio = await ensureMinioBinary({ cacheDir });
  log(`minio ${typeof minio === 'string' ? minio : JSON.stringify(minio)} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
}

main().catch((err) => {
  console.error(`ensure-tools: ${(err as Error).message}`);
  process.exit(1);
});
