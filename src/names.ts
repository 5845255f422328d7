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

/** Storage key of a build's resolved config. */
export function buildConfigKey(buildId: string): string {
  return `${buildPrefix(buildId)}/config.json`;
}

/** Storage key of segment part `index` of a range group (or of the whole dump). */
export function segmentPartKey(buildId: string, lang: string, group: number | undefined, index: number): string {
  const prefix = group === undefined ? 'all' : `g${String(group).padStart(4, '0')}`;
  return stageKey(buildId, lang, 'segments', `${prefix}-${String(index).padStart(5, '0')}.jsonl`);
}

/** Storage key of a language's segment manifest, and of its knowledge-stage funnel. */
export function segmentsManifestKey(buildId: string, lang: string): string {
  return stageKey(buildId, lang, 'segments', 'manifest.json');
}
export function knowledgeStatsKey(buildId: string, lang: string): string {
  return stageKey(buildId, lang, 'stats', 'knowledge.json');
}

/** An English source set shared by the languages: one subset as read, or the judge-filtered chat set. */
export type SourceSetName = 'chat' | 'math' | 'code' | 'chat-filtered';

/** Storage key of a source set's shard manifest. */
export function sourceManifestKey(buildId: string, set: SourceSetName): string {
  return `${buildPrefix(buildId)}/sources/${set}/manifest.json`;
}

/** Storage key of shard `index` of a source set. */
export function sourceShardKey(buildId: string, set: SourceSetName, index: number): string {
  return `${buildPrefix(buildId)}/sources/${set}/${String(index).padStart(5, '0')}.jsonl`;
}

/** Key of the audit file listing every judged conversation with all its verdicts, in source order. */
export function verdictAuditKey(buildId: string): string {
  return `${buildPrefix(buildId)}/sources/chat-verdicts.jsonl`;
}

/** Folder of one item of a stage: a dialogue (by segment index), a judged or translated item (by source index). */
export function itemDir(buildId: string, lang: string, stage: string, index: number): string {
  return stageKey(buildId, lang, stage, `items/${index}`);
}

/** Key of one stored judge attempt. */
export function verdictKey(buildId: string, sourceLang: string, sourceIndex: number, attempt: number): string {
  return `${itemDir(buildId, sourceLang, 'judge', sourceIndex)}/verdict-${attempt}.json`;
}

/** Key of one attempt at translating text `field` of an item, and of the item's joined translation. */
export function translationFieldKey(item: { buildId: string; lang: string; stage: string; sourceIndex: number }, field: number, attempt: number): string {
  return `${itemDir(item.buildId, item.lang, item.stage, item.sourceIndex)}/field-${field}-${attempt}.json`;
}
export function translationKey(buildId: string, lang: string, stage: string, sourceIndex: number): string {
  return `${itemDir(buildId, lang, stage, sourceIndex)}/translation.json`;
}

/** Key of one turn's question (`q`) or answer (`a`) of a dialogue, and of the finished dialogue. */
export function turnKey(dialogue: { buildId: string; lang: string; segmentIndex: number }, turn: number, role: 'q' | 'a'): string {
  return `${itemDir(dialogue.buildId, dialogue.lang, 'chat_specific', dialogue.segmentIndex)}/turn-${turn}-${role}.json`;
}
export function dialogueKey(buildId: string, lang: string, segmentIndex: number): string {
  return `${itemDir(buildId, lang, 'chat_specific', segmentIndex)}/dialogue.json`;
}

/** Key of the items a stage batch kept (its first draw position names it), and the folder of all of them. */
export function keptBatchKey(buildId: string, lang: string, stage: string, from: number): string {
  return stageKey(buildId, lang, stage, `batches/${String(from).padStart(10, '0')}.json`);
}
export function keptBatchesPrefix(buildId: string, lang: string, stage: string): string {
  return stageKey(buildId, lang, stage, 'batches/');
}
