/** Naming of the language-agnostic subsets in dataset ids and file names (assembly writes the lines). */
import type { AgnosticSubset } from './readers';

/** Dataset type name of a subset in ids and file names: chat becomes chat_agnostic. */
export function subsetType(subset: AgnosticSubset): 'chat_agnostic' | 'math' | 'code' {
  return subset === 'chat' ? 'chat_agnostic' : subset;
}
