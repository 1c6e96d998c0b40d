import { describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../electron/api/contract.js';
import { highlight, questionTerms } from '../../renderer/lib/highlight.js';
import { applyDelta, newStreamId, type StreamText } from '../../renderer/lib/stream.js';

const delta = (streamId: string, text: string): ApiEvent => ({ type: 'answer.delta', streamId, text });

describe('streamed answer text', () => {
  it('appends the deltas of its own stream, in order, and ignores other streams and events', () => {
    const events: ApiEvent[] = [
      delta('mine', '夜间'),
      delta('other', 'NOISE'),
      { type: 'ready', ready: { status: 'ready', phase: 'ready', percent: 100 } },
      delta('mine', '发药窗口'),
      delta('mine', ''),
      delta('other', 'more noise'),
      delta('mine', '在门诊楼一层。'),
    ];
    let mine: StreamText | null = { streamId: 'mine', text: '' };
    let other: StreamText | null = { streamId: 'other', text: '' };
    for (const e of events) {
      mine = applyDelta(mine, e);
      other = applyDelta(other, e);
    }
    expect(mine).toEqual({ streamId: 'mine', text: '夜间发药窗口在门诊楼一层。' });
    expect(other).toEqual({ streamId: 'other', text: 'NOISEmore noise' });
  });

  it('returns the same object when nothing changes, and nothing without a pending stream', () => {
    const s: StreamText = { streamId: 'a', text: 'x' };
    expect(applyDelta(s, delta('b', 'y'))).toBe(s);
    expect(applyDelta(s, { type: 'job', job: {} as never })).toBe(s);
    expect(applyDelta(null, delta('a', 'y'))).toBeNull();
  });

  it('makes distinct UUID-shaped stream ids', () => {
    const ids = new Set(Array.from({ length: 100 }, () => newStreamId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('highlighting the question in a passage', () => {
  it('splits Chinese into pairs of characters and keeps Latin words and numbers', () => {
    expect(questionTerms('夜间发药窗口？')).toEqual(['发药', '夜间', '窗口', '药窗', '间发'].sort((a, b) => a.localeCompare(b)));
    expect(questionTerms('Where is UPS 6120 a?')).toEqual(['6120', 'ups', 'where', 'is'].sort((a, b) => b.length - a.length || a.localeCompare(b)));
  });

  it('marks every occurrence, case-insensitively, merging overlaps', () => {
    const pieces = highlight('夜间发药窗口位于门诊楼一层，电话分机 6120。UPS ups', questionTerms('夜间发药窗口在哪里 6120 ups'));
    expect(pieces.filter((p) => p.hit).map((p) => p.text)).toEqual(['夜间发药窗口', '6120', 'UPS', 'ups']);
    expect(pieces.map((p) => p.text).join('')).toBe('夜间发药窗口位于门诊楼一层，电话分机 6120。UPS ups');
  });

  it('returns the text as one plain piece when nothing matches', () => {
    expect(highlight('abc', ['zz'])).toEqual([{ text: 'abc', hit: false }]);
    expect(highlight('', ['a'])).toEqual([]);
  });
});
