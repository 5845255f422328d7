/**
 * Custom search attributes, so the Temporal UI's list filters builds by language and stage and sorts by progress.
 * SQLite visibility allows 3 Int, 10 Keyword and 3 Text attributes per namespace: we use 2 Int and 4 Keyword.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Name -> type as `temporal server start-dev --search-attribute` spells it. */
export const SEARCH_ATTRIBUTES = {
  UltralinkBuild: 'Keyword',
  UltralinkLanguage: 'Keyword',
  UltralinkStage: 'Keyword',
  UltralinkState: 'Keyword',
  UltralinkProgress: 'Int',
  UltralinkDone: 'Int',
} as const;

export const BUILD_KEY = defineSearchAttributeKey('UltralinkBuild', SearchAttributeType.KEYWORD);
export const LANGUAGE_KEY = defineSearchAttributeKey('UltralinkLanguage', SearchAttributeType.KEYWORD);
export const STAGE_KEY = defineSearchAttributeKey('UltralinkStage', SearchAttributeType.KEYWORD);
/** running | paused | budget_paused | done | failed. */
export const STATE_KEY = defineSearchAttributeKey('UltralinkState', SearchAttributeType.KEYWORD);
/** Percent of the current stage's planned units done. */
export const PROGRESS_KEY = defineSearchAttributeKey('UltralinkProgress', SearchAttributeType.INT);
/** Units (pages, dialogues, items) done in the current stage. */
export const DONE_KEY = defineSearchAttributeKey('UltralinkDone', SearchAttributeType.INT);
