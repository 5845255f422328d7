/** Language identification with fastText lid.176 (paper §2.1.1), shipped inside fasttext.wasm.js. */
import type * as FastText from 'fasttext.wasm.js' with { 'resolution-mode': 'import' };
import type { Doc } from '../records';
import { drop, KEEP, type Verdict } from '../stats';

/** A loaded identifier; `lang` is the raw lid.176 label (`en`, `zh`, …), `score` its probability in [0, 1]. */
export interface LangId {
  detect(text: string): { lang: string; score: number };
}

/** Options of {@link filterByLanguage}; `lang` is the language entry's fastText label from config. */
export interface LanguageFilterOptions {
  lang: string;
  langId: LangId;
  minScore?: number;
}

let shared: Promise<LangId> | undefined;

/** Loads lid.176 once per process (wasm + model) and returns a synchronous detector. */
export function loadLangId(): Promise<LangId> {
  shared ??= (async () => {
    // The package is ESM-typed but ships a CommonJS build; require keeps this module synchronous CommonJS.
    const { getLIDModel } = require('fasttext.wasm.js') as typeof FastText;
    const model = await (await getLIDModel()).load();
    return {
      detect(text: string) {
        // fastText predicts one line at a time: a newline would cut the input short.
        const vector = model.predict(text.replace(/\s+/g, ' '), 1, 0);
        try {
          if (vector.size() === 0) return { lang: 'und', score: 0 };
          const [prob, label] = vector.get(0) as unknown as [number, string];
          return { lang: label.replace('__label__', ''), score: Math.min(1, Math.max(0, prob)) };
        } finally {
          vector.delete(); // emscripten vectors live on the wasm heap until freed
        }
      },
    };
  })();
  return shared;
}

/** Keeps a document whose detected language is `lang` with probability ≥ minScore. */
export function filterByLanguage(doc: Doc, opts: LanguageFilterOptions): Verdict {
  const { lang, score } = opts.langId.detect(doc.text);
  if (lang !== opts.lang || score < (opts.minScore ?? 0.5)) return drop('text_wrong_language');
  return KEEP;
}
