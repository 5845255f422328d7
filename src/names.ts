/** Workflow ids and storage keys, built in one place. Ids follow `<build>/<lang>/<stage>/<shard>`. */

/** A new build id: readable and unique enough for humans (`ul-20261126-071500-ab12`). */
export function newBuildId(now: Date, suffix: string): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `ul-${stamp}-${suffix}`;
}

/** Child workflow id of one language's build. */
export function languageWorkflowId(buildId: string, lang: string): string {
  return `${buildId}/${lang}`;
}

/** Child workflow id of one stage of one language, optionally one shard of it. */
export function stageWorkflowId(buildId: string, lang: string, stage: string, shard?: string | number): string {
  return shard === undefined ? `${buildId}/${lang}/${stage}` : `${buildId}/${lang}/${stage}/${shard}`;
}

/** Storage prefix of everything one build writes (resume reuses it, so it is keyed by build, not run). */
export function buildPrefix(buildId: string): string {
  return `builds/${buildId}`;
}

/** Storage key of one stage artefact, e.g. `builds/<id>/en/segments/00003.jsonl`. */
export function stageKey(buildId: string, lang: string, stage: string, name: string): string {
  return `${buildPrefix(buildId)}/${lang}/${stage}/${name}`;
}

/** Final dataset folder of a build. */
export function datasetPrefix(buildId: string): string {
  return `${buildPrefix(buildId)}/dataset`;
}
