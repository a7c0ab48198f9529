// Small readers for request values, each failing with the spec's error for bad input.
import type { Context } from 'koa';
import { MatrixError } from './matrix-error.ts';

export function stringField(body: Record<string, unknown>, key: string, required: true): string;
export function stringField(body: Record<string, unknown>, key: string, required?: false): string | undefined;
export function stringField(body: Record<string, unknown>, key: string, required = false): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) {
    if (required) throw new MatrixError(400, 'M_MISSING_PARAM', `Missing '${key}'`);
    return undefined;
  }
  if (typeof v !== 'string') throw new MatrixError(400, 'M_BAD_JSON', `'${key}' must be a string`);
  return v;
}

export function boolField(body: Record<string, unknown>, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new MatrixError(400, 'M_BAD_JSON', `'${key}' must be a boolean`);
  return v;
}

export function objectField(body: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new MatrixError(400, 'M_BAD_JSON', `'${key}' must be an object`);
  return v as Record<string, unknown>;
}

export function queryString(ctx: Context, key: string): string | undefined {
  const v = ctx.query[key];
  if (Array.isArray(v)) return v[v.length - 1];
  return v === undefined ? undefined : v;
}

export function queryInt(ctx: Context, key: string, dflt: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = queryString(ctx, key);
  if (v === undefined || v === '') return dflt;
  if (!/^-?\d+$/.test(v)) throw new MatrixError(400, 'M_INVALID_PARAM', `'${key}' must be an integer`);
  return Math.min(max, Math.max(min, Number(v)));
}

export function queryBool(ctx: Context, key: string): boolean {
  const v = queryString(ctx, key);
  return v === 'true' || v === '1';
}

/** Route params arrive percent-decoded by the router; this guards against a missing one. */
export function param(ctx: Context, key: string): string {
  const v = (ctx.params as Record<string, string | undefined>)[key];
  if (v === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', `Missing path parameter ${key}`);
  return v;
}
