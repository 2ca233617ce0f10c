import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export interface LogOptions {
  level?: string;
  /** Where JSON lines go; defaults to stdout. */
  destination?: DestinationStream | string;
  base?: Record<string, unknown>;
}

/** One root logger per box; rooms and lessons take child loggers with ids in fields. */
export function createLogger(opts: LogOptions = {}): Logger {
  const dest = typeof opts.destination === 'string'
    ? pino.destination({ dest: opts.destination, mkdir: true, sync: false })
    : opts.destination;
  return pino(
    { level: opts.level ?? 'info', base: opts.base ?? {}, timestamp: pino.stdTimeFunctions.isoTime },
    dest ?? pino.destination(1),
  );
}

/** A logger that drops everything (for CLI commands that must keep stdout clean). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
