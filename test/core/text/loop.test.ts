import { describe, expect, it } from 'vitest';
import { endsInLoop } from '../../../src/core/text/loop';

describe('endsInLoop', () => {
  it.each([
    // Loops the embedded model wrote in the demo (their ends, as generated).
    ['fr', 'La moyenne est 0 de, le50 de, le50 de, le50 de, le50 de, le50 de, le50 de, le50 de, le50 de, le50 de, le50 de, le50'],
    ['en', 'The answer is clear. The year is 2023. The year is 2023. The year is 2023. The year is 2023. The year is 20'],
    ['ru', 'Он сказал два едва едва едва едва едва едва едва едва едва едва едва едва едва едва е'],
    ['mixed', 'Les 15 еlles 15 еlles 15 еlles 15 еlles 15 еlles 15 еlles 15 еlles 15 еlles 15 еl'],
    ['zh', `长江${'的'.repeat(70)}`],
    ['digits', `Чехов оставляет ему${'0'.repeat(170)}`],
  ])('a loop (%s) is caught', (_, text) => {
    expect(endsInLoop(text)).toBe(true);
  });

  it.each([
    ['prose', 'Le canal du Midi relie Toulouse à la mer Méditerranée. Il fut construit entre 1666 et 1681 par Pierre-Paul Riquet.'],
    ['a table border', `| a | b | c |\n${'|---'.repeat(12)}|`],
    ['a code separator', `# ${'='.repeat(100)}\nprint(x)`],
    ['a short repeat', 'Yes, yes, yes, yes.'],
    ['a list that ends alike', '- get(key) returns the value.\n- put(key, value) inserts the key.\n- del(key) removes the key.'],
  ])('%s is not', (_, text) => {
    expect(endsInLoop(text)).toBe(false);
  });
});
