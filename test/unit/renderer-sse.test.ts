import { describe, expect, it } from 'vitest';
import { SseParser, backoffMs } from '../../renderer/lib/sse.js';

const job = { type: 'job', job: { id: 'j1', done: 3, total: 10 } };

describe('the event-stream parser', () => {
  it('returns one event per blank-line-terminated block', () => {
    const parser = new SseParser();
    const out = parser.push(`data: ${JSON.stringify(job)}\n\ndata: {"type":"ready"}\n\n`);
    expect(out.map((m) => JSON.parse(m.data))).toEqual([job, { type: 'ready' }]);
    expect(out[0]?.event).toBe('message');
  });

  it('joins events split across chunks at any byte', () => {
    const text = `data: ${JSON.stringify(job)}\n\n: keep-alive\n\ndata: {"type":"ready","ready":{"status":"ready"}}\n\n`;
    for (let size = 1; size <= 7; size++) {
      const parser = new SseParser();
      const events = [];
      for (let i = 0; i < text.length; i += size) events.push(...parser.push(text.slice(i, i + size)));
      expect(events.map((m) => JSON.parse(m.data).type), `chunk size ${size}`).toEqual(['job', 'ready']);
    }
  });

  it('holds back an event until its terminating blank line arrives', () => {
    const parser = new SseParser();
    expect(parser.push('data: {"a":')).toEqual([]);
    expect(parser.push('1}\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ event: 'message', data: '{"a":1}', id: null }]);
  });

  it('accepts CRLF and CR line ends, including a CRLF split between chunks', () => {
    const parser = new SseParser();
    expect(parser.push('data: x\r')).toEqual([]);
    expect(parser.push('\n\r\n')).toEqual([{ event: 'message', data: 'x', id: null }]);
    // A CR at the very end may be half of a CRLF: it is resolved by the next character.
    expect(parser.push('data: y\r\r')).toEqual([]);
    expect(parser.push(': ping\r')).toEqual([{ event: 'message', data: 'y', id: null }]);
  });

  it('joins several data lines with newlines and reads event and id fields', () => {
    const parser = new SseParser();
    expect(parser.push('event: job\nid: 7\ndata: a\ndata:b\n\n')).toEqual([{ event: 'job', data: 'a\nb', id: '7' }]);
  });

  it('skips comments and blocks without data', () => {
    const parser = new SseParser();
    expect(parser.push(': ping\n\nevent: nothing\n\n')).toEqual([]);
  });

  it('forgets a partial event after a reset', () => {
    const parser = new SseParser();
    parser.push('data: half');
    parser.reset();
    expect(parser.push('data: whole\n\n')).toEqual([{ event: 'message', data: 'whole', id: null }]);
  });
});

describe('the reconnection backoff', () => {
  it('doubles from one second up to fifteen seconds', () => {
    expect([0, 1, 2, 3, 4, 5, 100].map((n) => backoffMs(n))).toEqual([1000, 2000, 4000, 8000, 15000, 15000, 15000]);
  });
});
