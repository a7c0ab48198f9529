// Loads the Matrix spec's OpenAPI/JSON-Schema YAML files into one Ajv instance, keyed by their
// file:// URL, so that Ajv itself resolves every `$ref` (relative file, `#/pointer` inside a file,
// or `file#/pointer`) exactly as JSON Schema defines it: relative to the file that holds the ref.
import { readFileSync, readdirSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse as parseYaml } from 'yaml';

/** A node of a loaded document together with where it lives, so refs inside it resolve. */
export interface Located {
  file: string; // absolute path
  pointer: string; // JSON pointer inside that file, '' for the root
  node: unknown;
}

// Keys whose value is a map from names to schemas: their keys are names, not keywords, so a
// property called `examples` is still a schema there.
const NAME_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);
// Keys holding sample data rather than schemas: refs there point at example files, not schemas.
const SAMPLE_KEYS = new Set(['example', 'examples', 'x-example']);

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function unescapePointer(part: string): string {
  return decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~');
}

/** One Ajv for every spec folder: client-server and server-server refer into each other. */
export class SpecStore {
  readonly ajv: Ajv2020;
  private readonly docs = new Map<string, unknown>();
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly knownFormats = new Set<string>();

  constructor() {
    this.ajv = new Ajv2020({
      strict: false, // OpenAPI-isms (`example`, `x-*`, `nullable`) are ignored or handled natively
      allErrors: true,
      validateSchema: false, // whole OpenAPI documents are added as "schemas"; they are not
      logger: false,
    });
    addFormatsModule.default(this.ajv);
    for (const name of Object.keys(this.ajv.formats)) this.knownFormats.add(name);
  }

  /** Parse a file (cached) and register it, and everything it refers to, with Ajv. */
  load(file: string): unknown {
    const abs = resolve(file);
    const cached = this.docs.get(abs);
    if (cached !== undefined) return cached;
    const text = readFileSync(abs, 'utf8');
    const doc: unknown = extname(abs) === '.json' ? JSON.parse(text) : parseYaml(text);
    this.docs.set(abs, doc);
    // An explicit $id: without one, Ajv resolves refs inside a referenced file against the
    // *referring* file's URL, so `allOf: [$ref: error.yaml]` in errors/rate_limited.yaml breaks.
    if (isObject(doc)) this.ajv.addSchema({ ...doc, $id: fileUrl(abs) });
    const refs = new Set<string>();
    this.scan(doc, refs, false);
    for (const ref of refs) {
      const target = refFile(abs, ref);
      if (target !== abs) this.load(target);
    }
    return doc;
  }

  /** Load every *.yaml directly inside a folder (the OpenAPI files of one API). */
  loadDir(dir: string): Map<string, unknown> {
    const out = new Map<string, unknown>();
    for (const name of readdirSync(dir).sort()) {
      if (!/\.ya?ml$/.test(name)) continue;
      const file = join(dir, name);
      out.set(file, this.load(file));
    }
    return out;
  }

  /** Collect schema refs and register `format`s Ajv does not know as always-valid. */
  private scan(node: unknown, refs: Set<string>, keysAreNames: boolean): void {
    if (Array.isArray(node)) {
      for (const item of node) this.scan(item, refs, false);
      return;
    }
    if (!isObject(node)) return;
    for (const [key, value] of Object.entries(node)) {
      if (!keysAreNames) {
        if (SAMPLE_KEYS.has(key)) continue;
        if (key === '$ref' && typeof value === 'string') {
          refs.add(value);
          continue;
        }
        if (key === 'format' && typeof value === 'string' && !this.knownFormats.has(value)) {
          // The spec's own formats (mx-user-id, mx-room-id, ...) from data/string-formats.yaml
          // have no normative regex; accept them rather than have Ajv warn or throw.
          this.ajv.addFormat(value, true);
          this.knownFormats.add(value);
        }
      }
      this.scan(value, refs, !keysAreNames && NAME_MAPS.has(key));
    }
  }

  /** Follow a chain of `$ref`s at a non-schema OpenAPI position (response, path item). */
  deref(at: Located): Located {
    let cur = at;
    for (let hops = 0; hops < 20; hops++) {
      if (!isObject(cur.node) || typeof cur.node.$ref !== 'string') return cur;
      cur = this.resolveRef(cur.file, cur.node.$ref);
    }
    throw new Error(`$ref chain too long at ${cur.file}#${cur.pointer}`);
  }

  resolveRef(fromFile: string, ref: string): Located {
    const file = refFile(fromFile, ref);
    const hash = ref.indexOf('#');
    const pointer = hash < 0 ? '' : ref.slice(hash + 1);
    return { file, pointer, node: this.at(file, pointer) };
  }

  child(parent: Located, key: string): Located {
    const node = isObject(parent.node) ? parent.node[key] : undefined;
    return { file: parent.file, pointer: `${parent.pointer}/${escapePointer(key)}`, node };
  }

  at(file: string, pointer: string): unknown {
    let node = this.load(file);
    for (const part of pointer.split('/').slice(1)) {
      if (Array.isArray(node)) node = node[Number(part)];
      else if (isObject(node)) node = node[unescapePointer(part)];
      else return undefined;
    }
    return node;
  }

  /** Compile (once) the schema found at file#pointer; refs inside it are resolved by Ajv. */
  validatorAt(file: string, pointer: string): ValidateFunction {
    const id = `${fileUrl(file)}#${pointer.split('/').map(encodeURIComponent).join('/')}`;
    let fn = this.compiled.get(id);
    if (!fn) {
      fn = this.ajv.compile({ $ref: id });
      this.compiled.set(id, fn);
    }
    return fn;
  }

  /**
   * Resolve `$ref`s inside an example value the way the spec's renderer does: load the referenced
   * JSON/YAML file (refs relative to it) and merge the sibling keys over it.
   */
  resolveExample(value: unknown, file: string, depth = 0): unknown {
    if (depth > 50) throw new Error(`example $ref nesting too deep in ${file}`);
    if (Array.isArray(value)) return value.map((v) => this.resolveExample(v, file, depth + 1));
    if (!isObject(value)) return value;
    const out: Record<string, unknown> = {};
    if (typeof value.$ref === 'string') {
      const target = this.resolveRef(file, value.$ref);
      const base = this.resolveExample(target.node, target.file, depth + 1);
      // A lone ref stands for whatever it points at, arrays included (invite_or_knock_state.json).
      if (!isObject(base)) return base;
      Object.assign(out, base);
    }
    for (const [key, v] of Object.entries(value)) {
      if (key === '$ref') continue;
      const resolved = this.resolveExample(v, file, depth + 1);
      out[key] = isObject(out[key]) && isObject(resolved) ? deepMerge(out[key], resolved) : resolved;
    }
    return out;
  }
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [key, v] of Object.entries(b)) {
    const prev = out[key];
    out[key] = isObject(prev) && isObject(v) ? deepMerge(prev, v) : v;
  }
  return out;
}

export function fileUrl(file: string): string {
  return pathToFileURL(file).href;
}

/** The absolute file a ref points into; a bare `#/pointer` stays in the same file. */
function refFile(fromFile: string, ref: string): string {
  const hash = ref.indexOf('#');
  const filePart = hash < 0 ? ref : ref.slice(0, hash);
  if (filePart === '') return fromFile;
  const url = new URL(filePart, fileUrl(fromFile));
  if (url.protocol !== 'file:') throw new Error(`remote $ref ${ref} in ${fromFile} is not supported`);
  return fileURLToPath(url);
}
