// One error type for every configuration problem, so the CLI can print it as-is and pick an exit
// code from where the bad value came from (a usage error on the command line, or a bad file).

/** Where a value came from: a config file path, or 'command line'. */
export type ConfigSource = string;

export const COMMAND_LINE: ConfigSource = 'command line';

export interface ConfigErrorDetails {
  source: ConfigSource;
  /** The key as the user wrote it: `rate_limit.per_second` in a file, `--listen` on the command line. */
  key?: string;
  expected?: string;
  actual?: unknown;
  /** Set when there is no expected/actual pair to report (unreadable file, YAML syntax). */
  problem?: string;
}

export class ConfigError extends Error {
  readonly source: ConfigSource;
  readonly key: string | undefined;
  readonly expected: string | undefined;
  readonly actual: unknown;

  constructor(details: ConfigErrorDetails) {
    super(formatMessage(details));
    this.name = 'ConfigError';
    this.source = details.source;
    this.key = details.key;
    this.expected = details.expected;
    this.actual = details.actual;
  }

  get fromCommandLine(): boolean {
    return this.source === COMMAND_LINE;
  }
}

function formatMessage(d: ConfigErrorDetails): string {
  // On the command line the option name says where; in a file, name the file and the key.
  const where = d.key === undefined ? d.source : d.source === COMMAND_LINE ? d.key : `${d.source}: ${d.key}`;
  if (d.problem !== undefined) return `${where}: ${d.problem}`;
  return `${where}: expected ${d.expected}, got ${describe(d.actual)}`;
}

/** A short, unambiguous rendering of a bad value: quotes strings, names the type of the rest. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return value === '' ? 'an empty string' : truncate(JSON.stringify(value));
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  if (Array.isArray(value)) return `a list (${truncate(safeJson(value))})`;
  if (typeof value === 'object') return `a mapping (${truncate(safeJson(value))})`;
  return typeof value;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

function truncate(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
