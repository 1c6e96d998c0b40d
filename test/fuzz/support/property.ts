// The property every fuzzed loader case must have, and the bookkeeping of a fuzz run: what each
// case did, which outcomes break the property, and a one-line summary for the log.
import type { Case } from './corpus.js';
import { type Outcome, describeOutcome, growthMb } from './sandbox.js';

/** RSS a single case may add (the brief's bound). */
export const MAX_GROWTH_MB = 512;

/** C0/C1 control characters (other than none at all): raw file bytes that leaked into a message. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Why `o` breaks the loader property for case `c`, or null when it holds: parseDocument resolves
 * to units, or rejects with a LoadError for this file with a one-line reason; never another
 * error, a hang, a crash, or more than MAX_GROWTH_MB of extra memory.
 */
export function loaderViolation(c: Pick<Case, 'name'>, o: Outcome): string | null {
  switch (o.kind) {
    case 'hang':
    case 'crash':
    case 'memory':
      return describeOutcome(o);
    case 'ok': {
      if (growthMb(o) >= MAX_GROWTH_MB) return `resolved, but RSS grew ${growthMb(o)} MB (limit ${MAX_GROWTH_MB} MB)`;
      const v = o.value as { units?: number };
      if (!v || typeof v.units !== 'number' || v.units < 1) return `resolved without units: ${JSON.stringify(o.value)}`;
      return null;
    }
    case 'error': {
      const e = o.error;
      if (!e.isLoadError) return `rejected with ${e.constructorName} (${e.name}) instead of LoadError: ${e.message.slice(0, 300)}`;
      if (e.file !== c.name || !e.message.startsWith(`${c.name}: `)) return `the LoadError names ${JSON.stringify(e.file)}, not ${JSON.stringify(c.name)}: ${e.message.slice(0, 200)}`;
      const reason = e.reason ?? '';
      if (reason.trim().length < 8) return `the LoadError has no clear reason: ${JSON.stringify(reason)}`;
      if (/\n\s+at |\[object Object\]|^undefined|: undefined$/.test(reason)) return `the LoadError reason looks like a stack or a stray value: ${JSON.stringify(reason.slice(0, 200))}`;
      if (CONTROL.test(reason)) return `control characters from the file in the reason: ${JSON.stringify(reason.slice(0, 200))}`;
      if (growthMb(o) >= MAX_GROWTH_MB) return `LoadError, but RSS grew ${growthMb(o)} MB (limit ${MAX_GROWTH_MB} MB)`;
      return null;
    }
  }
}

export interface RunRecord {
  c: Case;
  o: Outcome;
  violation: string | null;
}

/** Counts per outcome kind, for the log. */
export function summarize(label: string, records: readonly RunRecord[]): string {
  const n = (k: string) => records.filter((r) => (k === 'LoadError' ? r.o.kind === 'error' && r.o.error.isLoadError : r.o.kind === k)).length;
  const slowest = [...records].sort((a, b) => b.o.ms - a.o.ms).slice(0, 3);
  const peak = Math.max(0, ...records.map((r) => growthMb(r.o)));
  const total = records.reduce((s, r) => s + r.o.ms, 0);
  return `${label}: ${records.length} cases in ${(total / 1000).toFixed(1)} s of sandbox time — ${n('ok')} parsed, ${n('LoadError')} LoadError, ${records.filter((r) => r.violation).length} violations; slowest ${slowest.map((r) => `${r.c.name} ${r.o.ms} ms`).join(', ')}; largest RSS growth ${peak} MB`;
}

/** The failure message listing every violation (first 25). */
export function violationReport(records: readonly RunRecord[], seed: number): string {
  const bad = records.filter((r) => r.violation);
  return `${bad.length} of ${records.length} cases broke the property (FUZZ_SEED=${seed}):\n${bad
    .slice(0, 25)
    .map((r) => `  ${r.c.name} [${r.c.what}]: ${r.violation}`)
    .join('\n')}`;
}
