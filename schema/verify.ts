// FrameVerifier: proves a received frame is a well-formed exchange v1 Message BEFORE any field is read.
//
// The flatbuffers npm runtime has no verifier and reads out of bounds as 0/undefined, so a hostile or
// corrupt frame could make the readers return garbage. The gateway calls `verify()` on every inbound
// frame and answers a non-zero result with an Error frame carrying the code and verifyReasonText(code);
// the client SDK does the same on what it receives (Direction.GatewayToClient). Once verify() returns
// OK, every accessor of the flyweight readers in schema/codec/ stays inside the frame and every value
// it returns is in range.
//
// Cost and safety: verify() never throws and never allocates; it keeps its state in the instance, so
// use one instance per thread. The rules are compiled once per process from the schema's generated
// layout (schema/generated/layout.ts) plus the policy below, so a field added to the .fbs is verified
// without touching this file. Supported: scalars, enums, bit_flags, int64/uint64, strings, unions of
// tables, vectors of tables, structs or scalars — what v1 uses. Anything else (a table or struct held
// directly by a table, a 64-bit enum) throws SchemaError when the first verifier is built, not on
// the wire.
//
// Rules, in the order they are checked:
//   frame    FRAME_TOO_SMALL < 16 bytes; FRAME_TOO_LARGE > limits.maxFrameBytes;
//            BAD_FILE_IDENTIFIER unless bytes 4..7 are "EXv1";
//            BAD_ROOT_OFFSET unless the root table lies 4-aligned in 8 .. length-4
//   table    DEPTH_EXCEEDED, TOO_MANY_TABLES (limits.maxDepth, limits.maxTables);
//            BAD_VTABLE_OFFSET: vtable (table - soffset) outside the frame or not 2-aligned;
//            BAD_VTABLE_SIZE: vtable size < 4, odd, or past the end of the frame;
//            BAD_TABLE_SIZE: table size < 4 or table past the end of the frame;
//            FIELD_OUT_OF_BOUNDS: a field offset < 4, or a field's bytes past the table's size
//            (every vtable entry, known fields with their full size);
//            MISALIGNED: a scalar not aligned to its size, an offset field not 4-aligned;
//            REQUIRED_FIELD_MISSING: a (required) string, vector or union absent or NONE
//   values   ENUM_OUT_OF_RANGE (incl. Side/OrderType Unset in NewOrder, bool not 0/1);
//            UNKNOWN_FLAGS: bits outside a bit_flags enum;
//            INTEGER_NEGATIVE (int64 < 0) / INTEGER_UNSAFE (> 2^53-1): outside 0 .. 2^53-1 (every int64 and
//            uint64 field, client_order_id included), also inside vectors of structs
//   offsets  BAD_OFFSET: a string/vector/table offset landing outside the frame or not 4-aligned
//   strings  STRING_OUT_OF_BOUNDS (length prefix + bytes + NUL past the end), STRING_NOT_TERMINATED,
//            STRING_TOO_LONG (per-field maximum below)
//   vectors  MISALIGNED elements (8-byte structs), VECTOR_TOO_LONG (limits.maxVectorLength) or for
//            Batch.items BATCH_EMPTY / BATCH_TOO_LARGE, VECTOR_OUT_OF_BOUNDS (length x element size
//            past the end; computed in doubles, so no overflow), then each element: struct fields
//            checked as values, table elements verified as tables
//   unions   UNION_TYPE_UNKNOWN (not a member), BODY_NOT_ALLOWED (a member of the other direction),
//            UNION_VALUE_MISSING (type set, value absent), then the value verified as its table
//   call     INVALID_ARGUMENT: `length` not an integer in 0 .. bytes.length
// Unknown trailing vtable entries (a newer minor version's fields) are allowed once inside the table.
// The schema is not recursive (a Batch cannot hold a Batch), so depth is at most 4 for valid frames.

import { FIRST_GATEWAY_BODY, MAX_BATCH_ITEMS } from './codec/protocol.js';
import { readI32, readU16, readU32, SAFE_HI_MAX } from './codec/wire.js';
import {
  FILE_IDENTIFIER,
  type FieldMeta,
  SCHEMA,
  type SchemaMeta,
  type StructFieldMeta,
} from './generated/layout.js';
import { SchemaError } from './schema-error.js';

/** Result codes of FrameVerifier.verify(): 0 = OK, 100-199 = frame verification reasons. */
export const VerifyResult = {
  OK: 0,
  FRAME_TOO_SMALL: 100,
  FRAME_TOO_LARGE: 101,
  BAD_FILE_IDENTIFIER: 102,
  BAD_ROOT_OFFSET: 103,
  BAD_VTABLE_OFFSET: 104,
  BAD_VTABLE_SIZE: 105,
  BAD_TABLE_SIZE: 106,
  FIELD_OUT_OF_BOUNDS: 107,
  MISALIGNED: 108,
  BAD_OFFSET: 109,
  STRING_OUT_OF_BOUNDS: 110,
  STRING_NOT_TERMINATED: 111,
  STRING_TOO_LONG: 112,
  VECTOR_OUT_OF_BOUNDS: 113,
  VECTOR_TOO_LONG: 114,
  ENUM_OUT_OF_RANGE: 115,
  UNKNOWN_FLAGS: 116,
  UNION_TYPE_UNKNOWN: 117,
  UNION_VALUE_MISSING: 118,
  BODY_NOT_ALLOWED: 119,
  REQUIRED_FIELD_MISSING: 120,
  INTEGER_NEGATIVE: 121,
  INTEGER_UNSAFE: 122,
  BATCH_EMPTY: 123,
  BATCH_TOO_LARGE: 124,
  DEPTH_EXCEEDED: 125,
  TOO_MANY_TABLES: 126,
  INVALID_ARGUMENT: 199,
} as const;

export type VerifyCode = (typeof VerifyResult)[keyof typeof VerifyResult];

const REASON_TEXT: Readonly<Record<number, string>> = {
  [VerifyResult.OK]: 'ok',
  [VerifyResult.FRAME_TOO_SMALL]: 'frame too small',
  [VerifyResult.FRAME_TOO_LARGE]: 'frame too large',
  [VerifyResult.BAD_FILE_IDENTIFIER]: `file identifier is not ${FILE_IDENTIFIER}`,
  [VerifyResult.BAD_ROOT_OFFSET]: 'root table offset out of bounds or misaligned',
  [VerifyResult.BAD_VTABLE_OFFSET]: 'vtable offset out of bounds or misaligned',
  [VerifyResult.BAD_VTABLE_SIZE]: 'vtable size invalid',
  [VerifyResult.BAD_TABLE_SIZE]: 'table size invalid',
  [VerifyResult.FIELD_OUT_OF_BOUNDS]: 'field outside its table',
  [VerifyResult.MISALIGNED]: 'field or vector misaligned',
  [VerifyResult.BAD_OFFSET]: 'offset to string, vector or table out of bounds or misaligned',
  [VerifyResult.STRING_OUT_OF_BOUNDS]: 'string exceeds the frame',
  [VerifyResult.STRING_NOT_TERMINATED]: 'string not NUL-terminated',
  [VerifyResult.STRING_TOO_LONG]: 'string longer than allowed',
  [VerifyResult.VECTOR_OUT_OF_BOUNDS]: 'vector exceeds the frame',
  [VerifyResult.VECTOR_TOO_LONG]: 'vector longer than allowed',
  [VerifyResult.ENUM_OUT_OF_RANGE]: 'enum value out of range',
  [VerifyResult.UNKNOWN_FLAGS]: 'unknown flag bits set',
  [VerifyResult.UNION_TYPE_UNKNOWN]: 'unknown message type',
  [VerifyResult.UNION_VALUE_MISSING]: 'message type set but message missing',
  [VerifyResult.BODY_NOT_ALLOWED]: 'message type not allowed in this direction',
  [VerifyResult.REQUIRED_FIELD_MISSING]: 'required field missing',
  [VerifyResult.INTEGER_NEGATIVE]: 'negative price or quantity',
  [VerifyResult.INTEGER_UNSAFE]: 'integer above 2^53-1',
  [VerifyResult.BATCH_EMPTY]: 'empty batch',
  [VerifyResult.BATCH_TOO_LARGE]: `batch holds more than ${MAX_BATCH_ITEMS} items`,
  [VerifyResult.DEPTH_EXCEEDED]: 'tables nested too deep',
  [VerifyResult.TOO_MANY_TABLES]: 'too many tables in frame',
  [VerifyResult.INVALID_ARGUMENT]: 'invalid verify() argument',
};

/** Short text of a verify result code, for Error frames and logs. */
export function verifyReasonText(code: number): string {
  return REASON_TEXT[code] ?? `unknown verify result ${code}`;
}

const REASON_UTF8 = new Map<number, Uint8Array>(
  Object.entries(REASON_TEXT).map(([code, text]) => [Number(code), new TextEncoder().encode(text)]),
);

/**
 * verifyReasonText(code) as UTF-8 bytes, encoded once per process: pass it to GatewayEncoder.error()
 * so rejecting a bad frame does not encode a string. Do not modify the returned bytes.
 */
export function verifyReasonUtf8(code: number): Uint8Array {
  return REASON_UTF8.get(code) ?? new TextEncoder().encode(verifyReasonText(code));
}

/** Which message bodies a verifier accepts. */
export const Direction = {
  /** What the gateway accepts: Logon .. CancelOnDisconnect, Heartbeat. */
  ClientToGateway: 0,
  /** What a client accepts: LogonAck .. SymbolStatus, Heartbeat. */
  GatewayToClient: 1,
  /** Every body (tools, tests). */
  Any: 2,
} as const;

export type DirectionValue = (typeof Direction)[keyof typeof Direction];

export interface VerifierLimits {
  /** Largest frame accepted, bytes. */
  readonly maxFrameBytes: number;
  /** Most items in a Batch (at most MAX_BATCH_ITEMS). */
  readonly maxBatchItems: number;
  /** Most elements in any other vector. */
  readonly maxVectorLength: number;
  /** Most tables (root, bodies, batch items, symbols) in one frame. */
  readonly maxTables: number;
  /** Deepest table nesting (root = 1; a batch item's order = 4). */
  readonly maxDepth: number;
}

/** Limits for the gateway's inbound frames: 64 KiB, 256 items per batch. */
export const CLIENT_FRAME_LIMITS: VerifierLimits = {
  maxFrameBytes: 64 * 1024,
  maxBatchItems: MAX_BATCH_ITEMS,
  maxVectorLength: 4096,
  maxTables: 2 + 2 * MAX_BATCH_ITEMS,
  maxDepth: 8,
};

/** Limits for frames a client receives (snapshots and the symbol list can be large). */
export const GATEWAY_FRAME_LIMITS: VerifierLimits = {
  maxFrameBytes: 16 * 1024 * 1024,
  maxBatchItems: MAX_BATCH_ITEMS,
  maxVectorLength: 1 << 20,
  maxTables: 1 << 20,
  maxDepth: 8,
};

/** Smallest possible frame: root offset + file identifier + vtable header + soffset. */
export const MIN_FRAME_BYTES = 16;

// ---------------------------------------------------------------------------------------------
// Policy: what the schema's types cannot say.
// ---------------------------------------------------------------------------------------------

/** Maximum UTF-8 byte length of string fields, by "Table.field". */
const STRING_MAX_BYTES: Readonly<Record<string, number>> = {
  'Logon.token': 4096,
  'LogonReject.text': 1024,
  'Error.text': 1024,
  'SymbolInfo.name': 64,
  'SymbolInfo.tick_size': 32,
  'SymbolInfo.lot_size': 32,
};
const DEFAULT_STRING_MAX_BYTES = 1024;
/** Enum fields whose low values are invalid there (e.g. Side.Unset in a NewOrder), by "Table.field". */
const ENUM_MIN: Readonly<Record<string, number>> = {
  'NewOrder.side': 1,
  'NewOrder.order_type': 1,
  'Logon.protocol_version': 1,
  'LevelChange.side': 1,
};
/** The vector that is a batch: limits.maxBatchItems and at least one item. */
const BATCH_VECTOR = 'Batch.items';

// ---------------------------------------------------------------------------------------------
// Compiled rules
// ---------------------------------------------------------------------------------------------

const K_SCALAR = 1; // any value of its size is valid
const K_RANGE = 2; // min .. max (enums, bool)
const K_FLAGS = 3; // no bits outside mask
const K_INT53 = 4; // 8 bytes, 0 .. 2^53-1
const K_STRING = 5;
const K_UNION = 6; // the type field; the value field is valueVt
const K_VEC_SCALAR = 7;
const K_VEC_STRUCT = 8;
const K_VEC_TABLE = 9;

const SCALAR_SIZE: Readonly<Record<string, number>> = {
  bool: 1,
  byte: 1,
  ubyte: 1,
  utype: 1,
  short: 2,
  ushort: 2,
  int: 4,
  uint: 4,
  float: 4,
  long: 8,
  ulong: 8,
  double: 8,
};

class FieldRule {
  kind = 0;
  vt = 0;
  /** Byte offset inside a struct (struct fields only). */
  offset = 0;
  size = 0;
  min = 0;
  max = 0;
  mask = 0;
  defaultValue = 0;
  /** int64 (its top bit is a sign: INTEGER_NEGATIVE) rather than uint64 (INTEGER_UNSAFE). */
  signed = false;
  required = false;
  /** Strings: max bytes; vectors: max elements (0 = limits.maxVectorLength). */
  maxLength = 0;
  isBatch = false;
  valueVt = 0;
  table: TableRule | null = null;
  union: UnionRule | null = null;
  struct: StructRule | null = null;
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }
}

class TableRule {
  fields: FieldRule[] = [];
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }
}

class StructRule {
  size = 0;
  align = 0;
  fields: FieldRule[] = [];
}

class UnionRule {
  /** Member table by type value; null = not a member, or not allowed in this direction. */
  readonly members: (TableRule | null)[] = new Array<TableRule | null>(256).fill(null);
  /** 1 when the type value is a member of the union at all. */
  readonly known = new Uint8Array(256);
}

function scalarSize(type: string, where: string): number {
  const size = SCALAR_SIZE[type];
  if (size === undefined) throw new SchemaError(`verify: unsupported field type '${type}' of ${where}`);
  return size;
}

/** Compiles value checks of a scalar field (table or struct) into `rule`. */
function compileScalar(rule: FieldRule, owner: string, type: string, ref: string | null, schema: SchemaMeta) {
  const where = `${owner}.${rule.name}`;
  rule.size = scalarSize(type, where);
  rule.kind = K_SCALAR;
  if (ref !== null) {
    const e = schema.enums[ref];
    if (!e) throw new SchemaError(`verify: ${where} refers to unknown enum ${ref}`);
    const values = Object.values(e.values);
    if (rule.size > 4) throw new SchemaError(`verify: enum ${ref} of ${where} wider than 32 bits`);
    if (e.bitFlags) {
      rule.kind = K_FLAGS;
      rule.mask = values.reduce((m, v) => m | v, 0);
    } else {
      const min = Math.min(...values);
      const max = Math.max(...values);
      if (max - min + 1 !== values.length) throw new SchemaError(`verify: enum ${ref} is not contiguous`);
      rule.kind = K_RANGE;
      rule.min = Math.max(min, ENUM_MIN[where] ?? min);
      rule.max = max;
    }
  } else if (type === 'bool') {
    rule.kind = K_RANGE;
    rule.min = 0;
    rule.max = 1;
  } else if (type === 'long' || type === 'ulong') {
    // Note: v1 has no signed quantity, so int64 and uint64 share the rule 0 .. 2^53-1. A field that
    // may be negative would need its own kind (wire.ts readSafeInt64 has the rule).
    // Note: client_order_id obeys the same rule: the engine keys open orders by it as a safe integer.
    rule.kind = K_INT53;
    rule.signed = type === 'long';
  }
}

class RuleCompiler {
  private readonly tables = new Map<string, TableRule>();
  private readonly structs = new Map<string, StructRule>();
  private readonly unions = new Map<string, UnionRule>();

  constructor(private readonly schema: SchemaMeta) {}

  /** The root rule; `rootUnion` restricts the root table's union to the given direction. */
  root(direction: DirectionValue): TableRule {
    const rootName = this.schema.rootTable;
    const meta = this.schema.tables[rootName];
    const rule = new TableRule(rootName);
    rule.fields = this.compileFields(rootName, meta.fields, direction);
    return rule;
  }

  private table(name: string): TableRule {
    let rule = this.tables.get(name);
    if (rule) return rule;
    const meta = this.schema.tables[name];
    if (!meta) throw new SchemaError(`verify: unknown table ${name}`);
    rule = new TableRule(name);
    this.tables.set(name, rule); // Note: registered before its fields, so a recursive schema terminates.
    rule.fields = this.compileFields(name, meta.fields, Direction.Any);
    return rule;
  }

  private struct(name: string): StructRule {
    let rule = this.structs.get(name);
    if (rule) return rule;
    const meta = this.schema.structs[name];
    if (!meta) throw new SchemaError(`verify: unknown struct ${name}`);
    rule = new StructRule();
    rule.size = meta.size;
    rule.align = meta.align;
    rule.fields = meta.fields.map((f: StructFieldMeta) => {
      const r = new FieldRule(f.name);
      r.offset = f.offset;
      compileScalar(r, name, f.type, f.ref, this.schema);
      return r;
    });
    this.structs.set(name, rule);
    return rule;
  }

  private union(name: string, direction: DirectionValue): UnionRule {
    const key = `${name}/${direction}`;
    let rule = this.unions.get(key);
    if (rule) return rule;
    const meta = this.schema.unions[name];
    if (!meta) throw new SchemaError(`verify: unknown union ${name}`);
    rule = new UnionRule();
    this.unions.set(key, rule);
    for (const [member, value] of Object.entries(meta.members)) {
      rule.known[value] = 1;
      const heartbeat = member === 'Heartbeat';
      const allowed =
        direction === Direction.Any ||
        heartbeat ||
        (direction === Direction.ClientToGateway ? value < FIRST_GATEWAY_BODY : value >= FIRST_GATEWAY_BODY);
      if (allowed) rule.members[value] = this.table(member);
    }
    return rule;
  }

  private compileFields(owner: string, fields: readonly FieldMeta[], direction: DirectionValue): FieldRule[] {
    const out: FieldRule[] = [];
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i];
      const where = `${owner}.${f.name}`;
      const rule = new FieldRule(f.name);
      rule.vt = f.vt;
      rule.required = f.required;
      switch (f.type) {
        case 'string':
          rule.kind = K_STRING;
          rule.size = 4;
          rule.maxLength = STRING_MAX_BYTES[where] ?? DEFAULT_STRING_MAX_BYTES;
          break;
        case 'utype': {
          const value = fields[i + 1];
          if (value?.type !== 'union' || value.ref !== f.ref) {
            throw new SchemaError(`verify: union type field ${where} not followed by its value`);
          }
          rule.kind = K_UNION;
          rule.size = 1;
          rule.valueVt = value.vt;
          rule.required = value.required;
          rule.union = this.union(f.ref ?? '', direction);
          i++; // Note: the value field is checked together with its type field.
          break;
        }
        case 'vector':
          rule.size = 4;
          rule.isBatch = where === BATCH_VECTOR;
          if (f.element === 'table') {
            rule.kind = K_VEC_TABLE;
            rule.table = this.table(f.elementRef ?? '');
          } else if (f.element === 'struct') {
            rule.kind = K_VEC_STRUCT;
            rule.struct = this.struct(f.elementRef ?? '');
          } else {
            rule.kind = K_VEC_SCALAR;
            rule.struct = new StructRule();
            rule.struct.size = scalarSize(f.element ?? '', where);
            rule.struct.align = rule.struct.size;
          }
          break;
        case 'table':
        case 'struct':
        case 'union':
          throw new SchemaError(`verify: unsupported field type '${f.type}' of ${where}`);
        default:
          compileScalar(rule, owner, f.type, f.ref, this.schema);
          rule.defaultValue = f.defaultValue ?? 0;
      }
      out.push(rule);
    }
    return out;
  }
}

let compiledRoots: TableRule[] | null = null;

function rootRules(): TableRule[] {
  if (compiledRoots === null) {
    const c = new RuleCompiler(SCHEMA);
    compiledRoots = [
      c.root(Direction.ClientToGateway),
      c.root(Direction.GatewayToClient),
      c.root(Direction.Any),
    ];
  }
  return compiledRoots;
}

const ID0 = FILE_IDENTIFIER.charCodeAt(0);
const ID1 = FILE_IDENTIFIER.charCodeAt(1);
const ID2 = FILE_IDENTIFIER.charCodeAt(2);
const ID3 = FILE_IDENTIFIER.charCodeAt(3);

function checkLimits(limits: VerifierLimits): VerifierLimits {
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new SchemaError(`verifier limit ${key} must be a positive integer, got ${value}`);
    }
  }
  if (limits.maxBatchItems > MAX_BATCH_ITEMS) {
    throw new SchemaError(
      `verifier limit maxBatchItems must be <= ${MAX_BATCH_ITEMS}, got ${limits.maxBatchItems}`,
    );
  }
  return limits;
}

const EMPTY = new Uint8Array(0);

export class FrameVerifier {
  readonly direction: DirectionValue;
  readonly limits: VerifierLimits;
  /** After a failed verify(): byte offset in the frame where the failing check looked (-1 if none). */
  errorOffset = -1;
  private readonly root: TableRule;
  private bytes: Uint8Array = EMPTY;
  private len = 0;
  private tableCount = 0;

  constructor(direction: DirectionValue = Direction.ClientToGateway, limits: Partial<VerifierLimits> = {}) {
    const base = direction === Direction.ClientToGateway ? CLIENT_FRAME_LIMITS : GATEWAY_FRAME_LIMITS;
    if (
      direction !== Direction.ClientToGateway &&
      direction !== Direction.GatewayToClient &&
      direction !== Direction.Any
    ) {
      throw new SchemaError(`unknown verifier direction ${direction}`);
    }
    this.direction = direction;
    this.limits = checkLimits({ ...base, ...limits });
    this.root = rootRules()[direction];
  }

  /**
   * Verifies `bytes[0 .. length)` as one frame. Returns VerifyResult.OK (0) or a reason code
   * (100-199, see verifyReasonText). Never throws, never allocates.
   */
  verify(bytes: Uint8Array, length: number = bytes.length): number {
    this.errorOffset = -1;
    if (!Number.isInteger(length) || length < 0 || length > bytes.length) {
      return VerifyResult.INVALID_ARGUMENT;
    }
    if (length < MIN_FRAME_BYTES) return this.fail(VerifyResult.FRAME_TOO_SMALL, 0);
    if (length > this.limits.maxFrameBytes) return this.fail(VerifyResult.FRAME_TOO_LARGE, 0);
    if (bytes[4] !== ID0 || bytes[5] !== ID1 || bytes[6] !== ID2 || bytes[7] !== ID3) {
      return this.fail(VerifyResult.BAD_FILE_IDENTIFIER, 4);
    }
    const root = readU32(bytes, 0);
    if (root < 8 || (root & 3) !== 0 || root + 4 > length) return this.fail(VerifyResult.BAD_ROOT_OFFSET, 0);
    this.bytes = bytes;
    this.len = length;
    this.tableCount = 0;
    const rc = this.table(root, this.root, 1);
    this.bytes = EMPTY; // Note: do not keep the caller's (possibly neutered) buffer alive.
    return rc;
  }

  private fail(code: number, offset: number): number {
    this.errorOffset = offset;
    return code;
  }

  /** Verifies the table at `pos` (already known 4-aligned with 4 bytes in the frame). */
  private table(pos: number, rule: TableRule, depth: number): number {
    if (depth > this.limits.maxDepth) return this.fail(VerifyResult.DEPTH_EXCEEDED, pos);
    if (++this.tableCount > this.limits.maxTables) return this.fail(VerifyResult.TOO_MANY_TABLES, pos);
    const bytes = this.bytes;
    const len = this.len;
    const vt = pos - readI32(bytes, pos);
    if (vt < 0 || vt + 4 > len || (vt & 1) !== 0) return this.fail(VerifyResult.BAD_VTABLE_OFFSET, pos);
    const vtSize = readU16(bytes, vt);
    const tableSize = readU16(bytes, vt + 2);
    if (vtSize < 4 || (vtSize & 1) !== 0 || vt + vtSize > len)
      return this.fail(VerifyResult.BAD_VTABLE_SIZE, vt);
    if (tableSize < 4 || pos + tableSize > len) return this.fail(VerifyResult.BAD_TABLE_SIZE, vt + 2);
    for (let e = 4; e < vtSize; e += 2) {
      const o = readU16(bytes, vt + e);
      if (o !== 0 && (o < 4 || o >= tableSize)) return this.fail(VerifyResult.FIELD_OUT_OF_BOUNDS, vt + e);
    }
    const fields = rule.fields;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i];
      const o = f.vt < vtSize ? readU16(bytes, vt + f.vt) : 0;
      if (o === 0) {
        if (f.required) return this.fail(VerifyResult.REQUIRED_FIELD_MISSING, vt);
        if (f.kind === K_RANGE && (f.defaultValue < f.min || f.defaultValue > f.max)) {
          return this.fail(VerifyResult.ENUM_OUT_OF_RANGE, vt);
        }
        continue;
      }
      if (o + f.size > tableSize) return this.fail(VerifyResult.FIELD_OUT_OF_BOUNDS, vt + f.vt);
      const p = pos + o;
      if ((p & (f.size - 1)) !== 0) return this.fail(VerifyResult.MISALIGNED, p);
      let rc: number;
      switch (f.kind) {
        case K_STRING:
          rc = this.string(p, f);
          break;
        case K_UNION:
          rc = this.union(pos, vt, vtSize, tableSize, p, f, depth);
          break;
        case K_VEC_TABLE:
          rc = this.tableVector(p, f, depth);
          break;
        case K_VEC_STRUCT:
        case K_VEC_SCALAR:
          rc = this.structVector(p, f);
          break;
        default:
          rc = this.scalar(p, f);
      }
      if (rc !== VerifyResult.OK) return rc;
    }
    return VerifyResult.OK;
  }

  /** Checks the value of a scalar at `p` (bounds and alignment already checked). */
  private scalar(p: number, f: FieldRule): number {
    const bytes = this.bytes;
    switch (f.kind) {
      case K_RANGE:
      case K_FLAGS: {
        let v: number;
        if (f.size === 1) v = bytes[p];
        else if (f.size === 2) v = readU16(bytes, p);
        else v = readU32(bytes, p);
        if (f.kind === K_FLAGS) {
          if ((v & ~f.mask) !== 0) return this.fail(VerifyResult.UNKNOWN_FLAGS, p);
        } else if (v < f.min || v > f.max) {
          return this.fail(VerifyResult.ENUM_OUT_OF_RANGE, p);
        }
        return VerifyResult.OK;
      }
      case K_INT53: {
        const hi = readU32(bytes, p + 4);
        if (hi > SAFE_HI_MAX) {
          const negative = f.signed && hi >= 0x80000000;
          return this.fail(negative ? VerifyResult.INTEGER_NEGATIVE : VerifyResult.INTEGER_UNSAFE, p);
        }
        return VerifyResult.OK;
      }
      default:
        return VerifyResult.OK;
    }
  }

  /** Follows the uoffset at `p`; returns the 4-aligned target with 4 bytes in the frame, or -1. */
  private offset(p: number): number {
    const t = p + readU32(this.bytes, p);
    if ((t & 3) !== 0 || t + 4 > this.len) {
      this.errorOffset = p;
      return -1;
    }
    return t;
  }

  private string(p: number, f: FieldRule): number {
    const t = this.offset(p);
    if (t < 0) return VerifyResult.BAD_OFFSET;
    const n = readU32(this.bytes, t);
    const end = t + 4 + n; // the NUL terminator
    if (end >= this.len) return this.fail(VerifyResult.STRING_OUT_OF_BOUNDS, t);
    if (this.bytes[end] !== 0) return this.fail(VerifyResult.STRING_NOT_TERMINATED, end);
    if (n > f.maxLength) return this.fail(VerifyResult.STRING_TOO_LONG, t);
    return VerifyResult.OK;
  }

  private union(
    pos: number,
    vt: number,
    vtSize: number,
    tableSize: number,
    p: number,
    f: FieldRule,
    depth: number,
  ): number {
    const type = this.bytes[p];
    if (type === 0) return f.required ? this.fail(VerifyResult.REQUIRED_FIELD_MISSING, p) : VerifyResult.OK;
    const u = f.union as UnionRule;
    if (u.known[type] === 0) return this.fail(VerifyResult.UNION_TYPE_UNKNOWN, p);
    const member = u.members[type];
    if (member === null) return this.fail(VerifyResult.BODY_NOT_ALLOWED, p);
    const o = f.valueVt < vtSize ? readU16(this.bytes, vt + f.valueVt) : 0;
    if (o === 0) return this.fail(VerifyResult.UNION_VALUE_MISSING, vt);
    if (o + 4 > tableSize) return this.fail(VerifyResult.FIELD_OUT_OF_BOUNDS, vt + f.valueVt);
    const vp = pos + o;
    if ((vp & 3) !== 0) return this.fail(VerifyResult.MISALIGNED, vp);
    const t = this.offset(vp);
    if (t < 0) return VerifyResult.BAD_OFFSET;
    return this.table(t, member, depth + 1);
  }

  /** Common vector checks; returns the element count, or a negative -code on failure. */
  private vectorHeader(t: number, f: FieldRule, elementSize: number, align: number): number {
    if (((t + 4) & (align - 1)) !== 0) return -this.fail(VerifyResult.MISALIGNED, t + 4);
    const n = readU32(this.bytes, t);
    if (f.isBatch) {
      if (n === 0) return -this.fail(VerifyResult.BATCH_EMPTY, t);
      if (n > this.limits.maxBatchItems) return -this.fail(VerifyResult.BATCH_TOO_LARGE, t);
    } else if (n > this.limits.maxVectorLength) {
      return -this.fail(VerifyResult.VECTOR_TOO_LONG, t);
    }
    if (t + 4 + n * elementSize > this.len) return -this.fail(VerifyResult.VECTOR_OUT_OF_BOUNDS, t);
    return n;
  }

  private tableVector(p: number, f: FieldRule, depth: number): number {
    const t = this.offset(p);
    if (t < 0) return VerifyResult.BAD_OFFSET;
    const n = this.vectorHeader(t, f, 4, 4);
    if (n < 0) return -n;
    const rule = f.table as TableRule;
    for (let i = 0; i < n; i++) {
      const e = this.offset(t + 4 + 4 * i);
      if (e < 0) return VerifyResult.BAD_OFFSET;
      const rc = this.table(e, rule, depth + 1);
      if (rc !== VerifyResult.OK) return rc;
    }
    return VerifyResult.OK;
  }

  private structVector(p: number, f: FieldRule): number {
    const t = this.offset(p);
    if (t < 0) return VerifyResult.BAD_OFFSET;
    const s = f.struct as StructRule;
    const n = this.vectorHeader(t, f, s.size, s.align);
    if (n < 0) return -n;
    const fields = s.fields;
    if (fields.length === 0) return VerifyResult.OK;
    for (let i = 0, base = t + 4; i < n; i++, base += s.size) {
      for (let j = 0; j < fields.length; j++) {
        const rc = this.scalar(base + fields[j].offset, fields[j]);
        if (rc !== VerifyResult.OK) return rc;
      }
    }
    return VerifyResult.OK;
  }
}
