import { useEffect, useState } from 'react';
import { formatClock } from '../lib/format.js';
import { elapsedMs } from '../lib/health.js';

/** Time since `since` (ms since the epoch) as a clock ("0:07"), updated every second. */
export function useElapsed(since: number): string {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return formatClock(elapsedMs(since, now));
}

/** Time since `since` as a clock, ticking every second. */
export function Elapsed({ since }: { since: number }) {
  return <>{useElapsed(since)}</>;
}
