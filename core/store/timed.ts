import type { Logger } from '../log.js';

const SLOW_MS = 5;

/** Runs a prepared statement and logs it when it takes longer than a few milliseconds. */
export function timed<T>(log: Logger, name: string, fn: () => T): T {
  const t0 = performance.now();
  try {
    return fn();
  } finally {
    const ms = performance.now() - t0;
    if (ms > SLOW_MS) log.warn({ query: name, ms: Math.round(ms * 10) / 10 }, 'slow query');
  }
}

