/** The few small records that cross pipeline steps. Texts live in storage; payloads carry keys. */

/** A Wikipedia article after page selection; `text` is wikitext before cleaning, plain text after. */
export interface Doc {
  lang: string;
  pageId: number;
  revisionId?: number;
  title: string;
  text: string;
  /** cl100k_base token count of `text`, once counted. */
  tokens?: number;
}

/** A 1K-2K-token piece of a kept document, cut on sentence boundaries (paper §2.1.1). */
export interface Segment {
  /** Stable id: hash of content + position. */
  id: string;
  lang: string;
  title: string;
  pageId: number;
  /** 0-based position of this segment within its document. */
  index: number;
  tokens: number;
  text: string;
}

/** One output record in the UltraLink line format. */
export interface DatasetLine {
  id: string;
  data: string[];
}
