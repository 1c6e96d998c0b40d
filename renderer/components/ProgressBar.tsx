import { fraction } from '../lib/format.js';

/** A native <progress>: no inline style needed under the page's Content-Security-Policy. */
export function ProgressBar({ done, total, label }: { done: number; total: number; label?: string }) {
  const known = total > 0;
  return (
    <progress
      className="progress"
      max={1}
      value={known ? fraction(done, total) : undefined}
      aria-label={label}
    />
  );
}
