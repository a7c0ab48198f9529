// Validates HTTP responses against the Matrix spec's OpenAPI definitions, so that integration
// tests catch a response shape the spec does not allow. Schemas come from the spec checkout's
// data/api/<api>/*.yaml; Ajv resolves their `$ref`s (see openapi/spec-store.ts).
import { resolve } from 'node:path';
import type { ErrorObject } from 'ajv/dist/2020.js';
import { buildRoutes, describeOp, matchRoute } from './openapi/routes.ts';
import type { Operation } from './openapi/routes.ts';
import { SpecStore, isObject } from './openapi/spec-store.ts';
import type { Located } from './openapi/spec-store.ts';

export type ValidationOutcome = 'validated' | 'no-schema';

export interface ApiValidator {
  readonly apiDir: string;
  /**
   * Throws an Error naming method, path, status, the Ajv errors (with instance paths) and an
   * excerpt of the body if the body does not match the schema of that operation's response for
   * that status. Returns 'validated', or 'no-schema' when the operation exists but declares no
   * JSON schema for that status (or the path is allow-listed). Throws if no operation matches.
   */
  validateResponse(method: string, urlPath: string, status: number, body: unknown): ValidationOutcome;
  /** Whether the spec declares an application/json body for this response (throws like above). */
  expectsJson(method: string, urlPath: string, status: number): boolean;
  /** Throws unless `body` is the standard error response: `{errcode: "NS_CODE", error: "..."}`. */
  validateErrorBody(body: unknown, context?: string): void;
  /** The spec's own example body for this response, with its `$ref`s resolved; undefined if none. */
  responseExample(method: string, urlPath: string, status: number): unknown;
  /** Every response example in the folder, for self-checks. `path` fills params with "x". */
  allResponseExamples(): ResponseExample[];
  /** Compile every response schema of every operation; failures are reported, not thrown. */
  compileAll(): CompileReport;
}

export interface ResponseExample {
  method: string;
  template: string;
  path: string;
  status: number;
  body: unknown;
}

export interface CompileReport {
  operations: number;
  compiled: number;
  failures: Array<{ where: string; error: string }>;
  ms: number;
}

export interface ValidatorOptions {
  /** Paths (after rewrites) with no operation in the spec that should give 'no-schema'. */
  allowUnknownPaths?: RegExp[];
  /** Applied in order to the URL path before matching, e.g. r0 -> v3. */
  pathRewrites?: Array<[RegExp, string]>;
}

const store = new SpecStore();
const folders = new Map<string, { routes: Operation[]; loadMs: number }>();

function loadFolder(apiDir: string): { routes: Operation[]; loadMs: number } {
  const dir = resolve(apiDir);
  let folder = folders.get(dir);
  if (!folder) {
    const start = performance.now();
    const routes = buildRoutes(store, store.loadDir(dir));
    if (routes.length === 0) throw new Error(`no OpenAPI operations found in ${dir}`);
    folder = { routes, loadMs: performance.now() - start };
    folders.set(dir, folder);
  }
  return folder;
}

/** How long the first load of that folder (YAML parsing, ref walking, route table) took. */
export function apiLoadMs(apiDir: string): number {
  return loadFolder(apiDir).loadMs;
}

/** The spec checkout: $HEARTH_MATRIX_SPEC_DIR, else ../shared/matrix-spec beside the repo. */
export function matrixSpecDir(): string {
  return process.env.HEARTH_MATRIX_SPEC_DIR ?? resolve(import.meta.dirname, '../../../shared/matrix-spec');
}

/** The parsed spec is cached per folder; the validator object itself is cheap. */
export function loadApiValidator(apiDir: string, opts: ValidatorOptions = {}): ApiValidator {
  const dir = resolve(apiDir);
  const { routes } = loadFolder(dir);
  const allow = opts.allowUnknownPaths ?? [];
  const rewrites = opts.pathRewrites ?? [];

  const rewrite = (urlPath: string): string => {
    let p = urlPath.replace(/[?#].*$/, '');
    for (const [re, to] of rewrites) p = p.replace(re, to);
    return p;
  };

  /** Operations for the request, or null when allow-listed; throws when the spec has none. */
  const operationsFor = (method: string, urlPath: string): Operation[] | null => {
    const path = rewrite(urlPath);
    const { ops, otherMethods } = matchRoute(routes, method, path);
    if (ops.length) return ops;
    if (allow.some((re) => re.test(path) || re.test(urlPath))) return null;
    const also = otherMethods.length ? ` (the spec has ${otherMethods.join(', ')} for this path)` : '';
    throw new Error(`${method.toUpperCase()} ${urlPath}: no operation in ${dir} matches${also}`);
  };

  const validator: ApiValidator = {
    apiDir: dir,

    validateResponse(method, urlPath, status, body) {
      const ops = operationsFor(method, urlPath);
      if (!ops) return 'no-schema';
      const withSchema = ops
        .map((op) => ({ op, schema: jsonMedia(responseFor(op, status))?.schema }))
        .filter((x): x is { op: Operation; schema: Located } => x.schema !== undefined);
      if (withSchema.length === 0) return 'no-schema';
      const problems: string[] = [];
      for (const { op, schema } of withSchema) {
        const validate = store.validatorAt(schema.file, schema.pointer);
        if (validate(body)) return 'validated';
        problems.push(`  against ${describeOp(op)} response ${status}:\n${formatErrors(validate.errors ?? [])}`);
      }
      throw new Error(
        `${method.toUpperCase()} ${urlPath} -> ${status}: response body does not match the spec\n` + `${problems.join('\n')}\n  body: ${excerpt(body)}`,
      );
    },

    expectsJson(method, urlPath, status) {
      const ops = operationsFor(method, urlPath);
      return ops !== null && ops.some((op) => jsonMedia(responseFor(op, status))?.schema !== undefined);
    },

    validateErrorBody(body, context = 'error response') {
      const problems: string[] = [];
      if (!isObject(body)) problems.push('body is not a JSON object');
      else {
        if (typeof body.errcode !== 'string') problems.push('errcode must be a string');
        // Client-Server API, "Standard error response": namespace in ALL CAPS, then a single `_`.
        else if (!/^[A-Z0-9.]+_[A-Z0-9_]+$/.test(body.errcode)) {
          problems.push(`errcode ${body.errcode} is not NAMESPACE_CODE`);
        }
        // "the keys `error` and `errcode` MUST always be present"
        if (typeof body.error !== 'string') problems.push('error must be a string');
      }
      if (problems.length) {
        throw new Error(`${context}: not a standard error response: ${problems.join('; ')}\n  body: ${excerpt(body)}`);
      }
    },

    responseExample(method, urlPath, status) {
      const ops = operationsFor(method, urlPath);
      for (const op of ops ?? []) {
        const media = jsonMedia(responseFor(op, status));
        const example = media && exampleOf(media.media);
        if (example !== undefined) return example;
      }
      return undefined;
    },

    allResponseExamples() {
      const out: ResponseExample[] = [];
      for (const op of uniqueOps(routes)) {
        for (const status of statusKeys(op)) {
          const n = Number(status);
          if (!Number.isInteger(n)) continue;
          const media = jsonMedia(responseFor(op, n));
          const body = media && exampleOf(media.media);
          if (body === undefined) continue;
          const path = op.template.replace(/\{[^}]+\}/g, 'x');
          out.push({ method: op.method, template: op.template, path, status: n, body });
        }
      }
      return out;
    },

    compileAll() {
      const start = performance.now();
      const report: CompileReport = { operations: 0, compiled: 0, failures: [], ms: 0 };
      for (const op of uniqueOps(routes)) {
        report.operations++;
        for (const status of statusKeys(op)) {
          const where = `${describeOp(op)} response ${status}`;
          try {
            const responses = store.deref(store.child(op.at, 'responses'));
            const media = jsonMedia(store.deref(store.child(responses, status)));
            if (!media?.schema) continue;
            store.validatorAt(media.schema.file, media.schema.pointer);
            report.compiled++;
          } catch (err) {
            report.failures.push({ where, error: err instanceof Error ? err.message : String(err) });
          }
        }
      }
      report.ms = performance.now() - start;
      return report;
    },
  };
  return validator;
}

/** The client-server API, with the legacy r0 paths matched as the v3 paths that replaced them. */
export function clientServerValidator(opts: ValidatorOptions = {}): ApiValidator {
  return loadApiValidator(resolve(matrixSpecDir(), 'data/api/client-server'), {
    ...opts,
    pathRewrites: [[/^\/_matrix\/client\/r0(?=\/)/, '/_matrix/client/v3'], [/^\/_matrix\/media\/r0(?=\/)/, '/_matrix/media/v3'], ...(opts.pathRewrites ?? [])],
  });
}

export function serverServerValidator(opts: ValidatorOptions = {}): ApiValidator {
  return loadApiValidator(resolve(matrixSpecDir(), 'data/api/server-server'), opts);
}

// ---- OpenAPI navigation -------------------------------------------------------------------

function uniqueOps(routes: Operation[]): Operation[] {
  const seen = new Map<string, Operation>();
  for (const op of routes) {
    const key = `${op.at.file}#${op.at.pointer}`;
    if (!seen.has(key)) seen.set(key, op);
  }
  return [...seen.values()];
}

function statusKeys(op: Operation): string[] {
  const responses = store.deref(store.child(op.at, 'responses'));
  return isObject(responses.node) ? Object.keys(responses.node) : [];
}

/** The response object for a status: exact code, then a range key like `4XX`, then `default`. */
function responseFor(op: Operation, status: number): Located | undefined {
  const responses = store.deref(store.child(op.at, 'responses'));
  if (!isObject(responses.node)) return undefined;
  const keys = Object.keys(responses.node);
  const range = `${Math.floor(status / 100)}XX`;
  const key = keys.find((k) => k === String(status)) ?? keys.find((k) => k.toUpperCase() === range) ?? keys.find((k) => k === 'default');
  return key === undefined ? undefined : store.deref(store.child(responses, key));
}

function jsonMedia(response: Located | undefined): { media: Located; schema: Located | undefined } | undefined {
  if (!response || !isObject(response.node) || !isObject(response.node.content)) return undefined;
  const content = store.child(response, 'content');
  const types = Object.keys(response.node.content);
  const type = types.find((t) => t === 'application/json') ?? types.find((t) => /[/+]json\b/i.test(t));
  if (type === undefined) return undefined;
  const media = store.deref(store.child(content, type));
  const schema = isObject(media.node) && media.node.schema !== undefined ? store.child(media, 'schema') : undefined;
  return { media, schema };
}

function exampleOf(media: Located): unknown {
  if (!isObject(media.node)) return undefined;
  if (isObject(media.node.examples)) {
    const first = Object.keys(media.node.examples)[0];
    if (first !== undefined) {
      const ex = store.deref(store.child(store.child(media, 'examples'), first));
      if (isObject(ex.node) && 'value' in ex.node) return store.resolveExample(ex.node.value, ex.file);
    }
  }
  if ('example' in media.node) return store.resolveExample(media.node.example, media.file);
  return undefined;
}

// ---- Messages -----------------------------------------------------------------------------

function formatErrors(errors: ErrorObject[]): string {
  const lines = errors.slice(0, 25).map((e) => {
    const where = e.instancePath || '(root)';
    const params = e.params as Record<string, unknown>;
    const extra =
      e.keyword === 'additionalProperties' ? ` '${String(params.additionalProperty)}'` : e.keyword === 'enum' ? ` ${JSON.stringify(params.allowedValues)}` : '';
    return `    ${where} ${e.message ?? e.keyword}${extra} (${e.keyword} at ${shortSchemaPath(e.schemaPath)})`;
  });
  if (errors.length > 25) lines.push(`    ... and ${errors.length - 25} more`);
  return lines.join('\n');
}

/** `file:///.../data/api/x.yaml#/paths/~1a%7Bb%7D` -> `api/x.yaml#/paths/~1a{b}` */
function shortSchemaPath(schemaPath: string): string {
  const short = schemaPath.replace(/^file:\/\/[^#]*?\/data\//, '');
  try {
    return decodeURIComponent(short);
  } catch {
    return short;
  }
}

function excerpt(body: unknown, max = 400): string {
  let text: string;
  try {
    text = JSON.stringify(body) ?? String(body);
  } catch {
    text = String(body);
  }
  return text.length > max ? `${text.slice(0, max)}... (${text.length} chars)` : text;
}

// The fetch wrapper that records failures for integration tests (matrix-js-sdk's fetchFn).
export {
  assertNoValidationFailures,
  clearValidationFailures,
  validatingFetch,
  validationCounts,
  validationFailures,
  recordValidationFailure,
  countValidated,
} from './openapi/validating-fetch.ts';
export type { ValidatingFetchOptions } from './openapi/validating-fetch.ts';
