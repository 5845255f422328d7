import { describe, expect, it } from 'vitest';
import { mask, maskBySlots, placeholder, splitForTranslation, unmask } from '../../../src/core/agnostic/mask';
import { randomInt, rngFor, type Rng } from '../../../src/core/random';

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[randomInt(rng, xs.length)];
// Prose includes dollar prices and brackets that must stay prose; a stray backtick ("don`t") is left to the example
// table, since beside real inline code it is ambiguous in Markdown itself.
const WORDS = ['the', 'value', 'of', 'function', 'returns', 'a', 'list', 'price', 'is', '$5', 'and', '$10', "don't", 'see', '(note)', 'e.g.', '100%', '[sic]', 'x', 'it’s'];
const CODE_CHARS = 'abcxyz_01 =+-*/(){}[]<>;:,.\'"$\\`#%&|!?\t';

function randomString(rng: Rng, alphabet: string, min: number, max: number): string {
  let s = '';
  const n = min + randomInt(rng, max - min + 1);
  for (let i = 0; i < n; i++) s += alphabet[randomInt(rng, alphabet.length)];
  return s;
}

/** A protected piece the masker must keep whole, and a prose filler around it. */
function protectedPiece(rng: Rng): string {
  switch (randomInt(rng, 8)) {
    case 0: {
      const body = Array.from({ length: 1 + randomInt(rng, 4) }, () => randomString(rng, CODE_CHARS.replace('`', ''), 0, 30)).join('\n');
      return `\`\`\`${pick(rng, ['', 'python', 'ts', 'sh'])}\n${body}\n\`\`\``;
    }
    case 1:
      return `\`${randomString(rng, CODE_CHARS.replace('`', '').replace(/\s/g, ''), 1, 20)}\``;
    case 2:
      return `$${randomString(rng, 'abxyz^_{}+-=\\frac 0123', 0, 15).trim() || 'x'}y$`;
    case 3:
      return `$$${randomString(rng, 'abxyz^_{}+-=\\sum 0123\n', 1, 30)}$$`;
    case 4:
      return `\\(${randomString(rng, 'abxyz^_{}+-= 0123', 1, 15)}\\)`;
    case 5:
      return `\\[${randomString(rng, 'abxyz^_{}+-=\n 0123', 1, 20)}\\]`;
    case 6:
      return `https://${randomString(rng, 'abcdefghij', 1, 8)}.${pick(rng, ['com', 'org', 'io'])}/${randomString(rng, 'abc123-_/?=&%.#~', 0, 20)}x`;
    default:
      return `[${1 + randomInt(rng, 99)}]`;
  }
}

function randomDocument(rng: Rng): { text: string; pieces: string[] } {
  const pieces: string[] = [];
  const parts: string[] = [];
  const n = 1 + randomInt(rng, 10);
  for (let i = 0; i < n; i++) {
    parts.push(Array.from({ length: randomInt(rng, 6) }, () => pick(rng, WORDS)).join(' '));
    const piece = protectedPiece(rng);
    pieces.push(piece);
    // Fenced blocks stand on their own lines, as in Markdown.
    parts.push(piece.startsWith('```') ? `\n${piece}\n` : ` ${piece} `);
  }
  return { text: parts.join(''), pieces };
}

/** A stand-in translator: rewrites prose, leaves every placeholder token alone (as the fake LLM server does). */
function fakeTranslate(masked: string): string {
  return masked.split(/(\u27e6P\d+\u27e7)/).map((part, i) => (i % 2 === 1 ? part : part.replace(/[a-z]+/g, (w) => w.toUpperCase() + 'É'))).join('');
}

describe('mask/unmask property', () => {
  it('code, LaTeX, URLs and citations survive mask → translate → unmask byte for byte (500 seeded documents)', () => {
    for (let seed = 0; seed < 500; seed++) {
      const rng = rngFor(seed, 'mask-property');
      const { text, pieces } = randomDocument(rng);
      const { masked, slots } = mask(text);
      const identity = unmask(masked, slots);
      expect(identity, `seed ${seed}`).toEqual({ ok: true, text });
      const translated = unmask(fakeTranslate(masked), slots);
      expect(translated.ok, `seed ${seed}`).toBe(true);
      if (!translated.ok) continue;
      for (const piece of pieces) {
        expect(masked.includes(piece), `seed ${seed}: piece left unmasked: ${piece}`).toBe(false);
        expect(translated.text.includes(piece), `seed ${seed}: piece changed: ${piece}`).toBe(true);
      }
    }
  });

  it('any dropped, altered or repeated placeholder is detected (500 seeded documents)', () => {
    for (let seed = 0; seed < 500; seed++) {
      const rng = rngFor(seed, 'mask-fault');
      const { masked, slots } = mask(randomDocument(rng).text);
      const n = randomInt(rng, slots.length);
      const token = placeholder(n);
      expect(unmask(masked.replace(token, ''), slots), `seed ${seed}`).toEqual({ ok: false, reason: 'translate_placeholder_lost' });
      const altered = pick(rng, [`\u27e6P ${n}\u27e7`, `[[P${n}]]`, `\u27e6p${n}\u27e7`, `\u27e6P${n}`, `[P${n}]`, `\u27e6P${n + slots.length}\u27e7`]);
      expect(unmask(masked.replace(token, altered), slots), `seed ${seed}: ${altered}`).toEqual({ ok: false, reason: 'translate_placeholder_altered' });
      expect(unmask(masked.replace(token, token + ' ' + token), slots), `seed ${seed}`).toEqual({ ok: false, reason: 'translate_placeholder_duplicated' });
    }
  });
});

describe('mask examples', () => {
  const table: Array<[string, string, string, string[]]> = [
    ['fenced block at line start', 'Run:\n```sh\nls -la\n```\nthen stop.', 'Run:\n⟦P0⟧\nthen stop.', ['```sh\nls -la\n```']],
    ['unclosed fence runs to the end', 'Code:\n```py\nprint(1)', 'Code:\n⟦P0⟧', ['```py\nprint(1)']],
    ['inline code and inline math', 'Use `x.sort()` when $n > 1$.', 'Use ⟦P0⟧ when ⟦P1⟧.', ['`x.sort()`', '$n > 1$']],
    ['money is not math', 'It costs $5 and $10 today.', 'It costs $5 and $10 today.', []],
    ['URL keeps a balanced parenthesis, drops the full stop', 'See https://en.wikipedia.org/wiki/Set_(mathematics).', 'See ⟦P0⟧.', ['https://en.wikipedia.org/wiki/Set_(mathematics)']],
    ['URL inside a Markdown link', '[docs](https://example.org/a?b=1)', '[docs](⟦P0⟧)', ['https://example.org/a?b=1']],
    ['citations', 'As shown [1] and [2, 3].', 'As shown ⟦P0⟧ and ⟦P1⟧.', ['[1]', '[2, 3]']],
    ['placeholder-like source text is protected', 'Literal ⟦P0⟧ here', 'Literal ⟦P0⟧ here', ['⟦P0⟧']],
    ['a stray apostrophe backtick is prose', 'I don`t know', 'I don`t know', []],
  ];
  it.each(table)('%s', (_name, text, masked, slots) => {
    expect(mask(text)).toEqual({ masked, slots });
  });

  it('placeholders may move (target word order) and still restore', () => {
    const { masked, slots } = mask('Compare `a` with `b`.');
    expect(unmask('Vergleiche ⟦P1⟧ mit ⟦P0⟧.', slots)).toEqual({ ok: true, text: 'Vergleiche `b` mit `a`.' });
    expect(masked).toBe('Compare ⟦P0⟧ with ⟦P1⟧.');
  });
});

describe('splitForTranslation', () => {
  it('copies code blocks and display formulas alone on their lines, and the whitespace around prose; each prose run is a piece', () => {
    // As in the demo's Magicoder sample: the answer opens with its code block, which a small model drops as a placeholder.
    const answer = '```ts\nconst cmp = (a, b) => a - b;\n```\n\nThe comparison relies on `a - b`: a non-zero difference returns at once.\n\n```ts\ncmp(1, 2);\n```';
    expect(splitForTranslation(answer)).toEqual([
      { translate: false, text: '```ts\nconst cmp = (a, b) => a - b;\n```\n\n' },
      { translate: true, text: 'The comparison relies on `a - b`: a non-zero difference returns at once.' },
      { translate: false, text: '\n\n```ts\ncmp(1, 2);\n```' },
    ]);
    // A MetaMath answer: a formula alone on its line is a block, one inside a sentence stays in the prose.
    const math = 'So the area is $X \\cdot 5 = 5X$ square units.\n$5X = 40$\nThe answer is: 8';
    expect(splitForTranslation(math)).toEqual([
      { translate: true, text: 'So the area is $X \\cdot 5 = 5X$ square units.' },
      { translate: false, text: '\n$5X = 40$\n' },
      { translate: true, text: 'The answer is: 8' },
    ]);
    expect(splitForTranslation('```py\nprint(1)\n```\n$$x$$')).toEqual([{ translate: false, text: '```py\nprint(1)\n```\n$$x$$' }]);
    expect(splitForTranslation('  Plain prose only.\n')).toEqual([
      { translate: false, text: '  ' },
      { translate: true, text: 'Plain prose only.' },
      { translate: false, text: '\n' },
    ]);
  });

  it('pieces join back into the text, and no piece to translate holds a placeholder alone on a line (500 seeded documents)', () => {
    for (let seed = 0; seed < 500; seed++) {
      const { text } = randomDocument(rngFor(seed, 'split-property'));
      const pieces = splitForTranslation(text);
      expect(pieces.map((p) => p.text).join(''), `seed ${seed}`).toBe(text);
      for (const p of pieces.filter((x) => x.translate)) {
        expect(mask(p.text).masked.split('\n').some((line) => /^[ \t]*\u27e6P\d+\u27e7[ \t]*$/.test(line)), `seed ${seed}: ${p.text}`).toBe(false);
        expect(p.text).toBe(p.text.trim());
      }
    }
  });
});

describe('maskBySlots', () => {
  it('turns spans copied verbatim back into their placeholders, so unmask judges the reply', () => {
    const { masked, slots } = mask('Call `parse(x)` on `x` and `x`, see [1].');
    expect(masked).toBe('Call ⟦P0⟧ on ⟦P1⟧ and ⟦P2⟧, see ⟦P3⟧.');
    const reply = 'Appelez `parse(x)` sur `x` et `x`, voir [1].';
    expect(maskBySlots(reply, slots)).toBe('Appelez ⟦P0⟧ sur ⟦P1⟧ et ⟦P2⟧, voir ⟦P3⟧.');
    expect(unmask(maskBySlots(reply, slots), slots)).toEqual({ ok: true, text: reply });
    // The embedded model's rewrites of code it was shown: a span changed is lost, one repeated is duplicated.
    expect(unmask(maskBySlots('Appelez `parse (x)` sur `x` et `x`, voir [1].', slots), slots)).toEqual({ ok: false, reason: 'translate_placeholder_lost' });
    expect(unmask(maskBySlots(`${reply} [1]`, slots), slots)).toEqual({ ok: false, reason: 'translate_placeholder_duplicated' });
  });

  it('restores byte for byte whatever the spans (500 seeded documents)', () => {
    for (let seed = 0; seed < 500; seed++) {
      const { text } = randomDocument(rngFor(seed, 'remask-property'));
      const { masked, slots } = mask(text);
      const reply = unmask(fakeTranslate(masked), slots);
      if (!reply.ok) throw new Error(`seed ${seed}`);
      expect(unmask(maskBySlots(reply.text, slots), slots), `seed ${seed}`).toEqual(reply);
    }
  });
});
