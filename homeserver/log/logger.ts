// The server's log: pino (structured JSON lines, levels) over a destination that never throws.
// Logging must never take the server down (issue #13): a closed pipe (EPIPE), a full disk
// (ENOSPC) or a pipe nobody drains (EAGAIN) drops the line and the server goes on.
import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Logger as PinoLogger } from 'pino';

// pino is loaded at the first line logged, not at start: a server that has nothing to say (the
// desktop's, most of the time) keeps its few MiB of idle memory.
const loadPino = () => createRequire(import.meta.url)('pino') as typeof import('pino');

/**
 * What components receive: `log(msg)` for a notable event, `log(msg, err)` for a failure (logged
 * at error level with its stack), optional structured `fields`. Plain functions still fit.
 */
export type Logger = (msg: string, err?: unknown, fields?: Record<string, unknown>) => void;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A Logger with levels; `log(msg)` is info and `log(msg, err)` is error. */
export interface HearthLogger extends Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, err?: unknown, fields?: Record<string, unknown>): void;
  error(msg: string, err?: unknown, fields?: Record<string, unknown>): void;
}

/** Where lines go: anything with a write(line) that does not throw. */
export interface LogDestination {
  write(line: string): void;
}

/**
 * Writes each line to `fd` synchronously (as Node itself writes stderr to files and pipes on
 * Linux), so nothing is buffered without bound in memory. A failed write is counted and dropped:
 * never an exception, never an 'error' event left unhandled.
 */
export class FdDestination implements LogDestination {
  readonly fd: number;
  /** Lines (or their tails) lost to write errors since start. */
  dropped = 0;

  constructor(fd: number) {
    this.fd = fd;
  }

  write(line: string): void {
    try {
      const bytes = Buffer.from(line, 'utf8');
      let offset = 0;
      // A pipe may take part of a line; the rest is written after.
      while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset, bytes.length - offset);
    } catch {
      this.dropped++;
    }
  }
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Default: stderr (fd 2). */
  destination?: LogDestination;
}

export function createLogger(opts: LoggerOptions = {}): HearthLogger {
  const destination = opts.destination ?? new FdDestination(2);
  const safe: LogDestination = {
    write(line) {
      try {
        destination.write(line);
      } catch {
        // A destination given by a caller that throws after all: the line is lost, nothing else.
      }
    },
  };
  let pinoLogger: PinoLogger | undefined;
  const pinoFor = (): PinoLogger => {
    if (pinoLogger) return pinoLogger;
    const pino = loadPino();
    pinoLogger = pino(
      {
        level: opts.level ?? 'info',
        base: { name: 'hearth' },
        timestamp: pino.stdTimeFunctions.isoTime,
        serializers: { err: pino.stdSerializers.err },
      },
      safe,
    );
    return pinoLogger;
  };
  const at = (level: LogLevel, msg: string, err?: unknown, fields?: Record<string, unknown>): void => {
    try {
      const obj: Record<string, unknown> = { ...fields };
      if (err !== undefined) obj.err = err instanceof Error ? err : new Error(String(err));
      pinoFor()[level](obj, msg);
    } catch {
      // Serialising the fields failed (a getter that throws, a BigInt): the message alone then.
      try {
        pinoFor()[level](msg);
      } catch {
        // Never propagate a logging failure.
      }
    }
  };
  const log = ((msg: string, err?: unknown, fields?: Record<string, unknown>) => at(err === undefined ? 'info' : 'error', msg, err, fields)) as HearthLogger;
  log.debug = (msg, fields) => at('debug', msg, undefined, fields);
  log.info = (msg, fields) => at('info', msg, undefined, fields);
  log.warn = (msg, err, fields) => at('warn', msg, err, fields);
  log.error = (msg, err, fields) => at('error', msg, err, fields);
  return log;
}
