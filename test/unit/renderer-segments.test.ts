import { describe, expect, it } from 'vitest';
import { parseAnswer } from '../../renderer/lib/segments.js';

describe('answer text with citation markers', () => {
  it('splits text and [n] markers in order', () => {
    expect(parseAnswer('先检查硬件[1]，再检查服务[2]。')).toEqual([
      { kind: 'text', text: '先检查硬件' },
      { kind: 'cite', n: 1 },
      { kind: 'text', text: '，再检查服务' },
      { kind: 'cite', n: 2 },
      { kind: 'text', text: '。' },
    ]);
  });

  it('reads adjacent markers and comma lists as several citations', () => {
    expect(parseAnswer('Restart [1][2] then [3, 4]')).toEqual([
      { kind: 'text', text: 'Restart ' },
      { kind: 'cite', n: 1 },
      { kind: 'cite', n: 2 },
      { kind: 'text', text: ' then ' },
      { kind: 'cite', n: 3 },
      { kind: 'cite', n: 4 },
    ]);
  });

  it('accepts Chinese list separators inside a marker', () => {
    expect(parseAnswer('[1，2、3]').map((s) => (s.kind === 'cite' ? s.n : s.text))).toEqual([1, 2, 3]);
  });

  it('keeps a bracketed number that is not a known citation as plain text', () => {
    expect(parseAnswer('见《指南[2023]》[1]', new Set([1]))).toEqual([
      { kind: 'text', text: '见《指南[2023]》' },
      { kind: 'cite', n: 1 },
    ]);
  });

  it('keeps a marker as text when any number in it is unknown', () => {
    expect(parseAnswer('a [1, 9] b', new Set([1]))).toEqual([{ kind: 'text', text: 'a [1, 9] b' }]);
  });

  it('returns the whole text when there is no marker, and nothing for an empty answer', () => {
    expect(parseAnswer('没有找到相关内容。')).toEqual([{ kind: 'text', text: '没有找到相关内容。' }]);
    expect(parseAnswer('')).toEqual([]);
  });

  it('ignores brackets that hold no number', () => {
    expect(parseAnswer('[a] [] [1]x')).toEqual([
      { kind: 'text', text: '[a] [] ' },
      { kind: 'cite', n: 1 },
      { kind: 'text', text: 'x' },
    ]);
  });
});
