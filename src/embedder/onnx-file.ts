/**
 * Reads the parts of an ONNX file (a protobuf `ModelProto`) that semvec's
 * own encoder needs: the graph's nodes, inputs, outputs and constant
 * tensors (initializers and Constant nodes). Tensor bytes stay views of the
 * file's buffer where they are aligned. Only the protobuf wire format is
 * decoded here, by field number (onnx/onnx.proto); everything else is
 * skipped, so newer files with more fields still read.
 *
 * A file this reader cannot follow throws ERR_CORRUPT_FILE; the caller then
 * runs the model with onnxruntime instead.
 */
import { createError, ErrorCode } from '../errors.js';

/** TensorProto.DataType values semvec reads. */
export const OnnxType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7 } as const;

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** The element count (product of dims; 1 for a scalar). */
  size: number;
  /** Little-endian element bytes (raw_data, or the typed fields re-encoded). */
  bytes: Uint8Array;
}

export type OnnxAttribute = { name: string; i?: number; f?: number; ints?: number[]; s?: string; t?: OnnxTensor };

export interface OnnxNode {
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, OnnxAttribute>;
}

export interface OnnxGraph {
  nodes: OnnxNode[];
  /** Initializers and the outputs of Constant nodes, by name. */
  constants: Map<string, OnnxTensor>;
  inputs: string[];
  outputs: string[];
}

const ELEMENT_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

class Reader {
  pos: number;
  constructor(readonly buf: Uint8Array, start: number, readonly end: number) {
    this.pos = start;
  }
  done(): boolean {
    return this.pos >= this.end;
  }
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw corrupt('a varint runs past its message');
      const b = this.buf[this.pos++] as number;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw corrupt('a varint is longer than 10 bytes');
  }
  /** A signed int64 varint (two's complement), as a number. */
  int64(): number {
    const v = this.varint();
    return v >= 2 ** 63 ? v - 2 ** 64 : v;
  }
  /** The next field's number and wire type, or undefined at the end. */
  tag(): { field: number; wire: number } | undefined {
    if (this.done()) return undefined;
    const t = this.varint();
    return { field: Math.floor(t / 8), wire: t & 7 };
  }
  bytes(): Uint8Array {
    const n = this.varint();
    if (n > this.end - this.pos) throw corrupt(`a field of ${n} bytes runs past its message`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  sub(): Reader {
    const b = this.bytes();
    return new Reader(this.buf, b.byteOffset - this.buf.byteOffset, b.byteOffset - this.buf.byteOffset + b.length);
  }
  string(): string {
    return new TextDecoder().decode(this.bytes());
  }
  float(): number {
    if (this.end - this.pos < 4) throw corrupt('a float runs past its message');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }
  skip(wire: number): void {
    switch (wire) {
      case 0: this.varint(); return;
      case 1: this.pos += 8; break;
      case 2: this.bytes(); return;
      case 5: this.pos += 4; break;
      default: throw corrupt(`unknown protobuf wire type ${wire}`);
    }
    if (this.pos > this.end) throw corrupt('a fixed-size field runs past its message');
  }
  /** Repeated scalars, packed (wire type 2) or one at a time. */
  repeated(wire: number, one: (r: Reader) => number, out: number[]): void {
    if (wire !== 2) {
      out.push(one(this));
      return;
    }
    const r = this.sub();
    while (!r.done()) out.push(one(r));
  }
}

function corrupt(what: string): Error {
  return createError(ErrorCode.CORRUPT_FILE, `not a readable ONNX file: ${what}`);
}

function readTensor(r: Reader): OnnxTensor {
  const dims: number[] = [];
  let dataType = 0;
  let name = '';
  let raw: Uint8Array | undefined;
  const floats: number[] = [];
  const ints: number[] = [];
  const int64s: number[] = [];
  let external = false;
  for (let t = r.tag(); t; t = r.tag()) {
    switch (t.field) {
      case 1: r.repeated(t.wire, (x) => x.int64(), dims); break;
      case 2: dataType = r.varint(); break;
      case 4: r.repeated(t.wire, (x) => x.float(), floats); break;
      case 5: r.repeated(t.wire, (x) => x.int64(), ints); break;
      case 7: r.repeated(t.wire, (x) => x.int64(), int64s); break;
      case 8: name = r.string(); break;
      case 9: raw = r.bytes(); break;
      case 13: external = true; r.skip(t.wire); break;
      default: r.skip(t.wire);
    }
  }
  if (external) throw createError(ErrorCode.UNSUPPORTED, `tensor ${name} keeps its data in an external file`);
  const size = dims.reduce((a, b) => a * b, 1);
  const width = ELEMENT_BYTES[dataType];
  if (width === undefined) return { name, dims, dataType, size, bytes: new Uint8Array(0) };
  let bytes: Uint8Array;
  if (raw) {
    bytes = raw;
  } else if (dataType === OnnxType.FLOAT) {
    bytes = new Uint8Array(Float32Array.from(floats).buffer);
  } else if (dataType === OnnxType.INT64) {
    bytes = new Uint8Array(BigInt64Array.from(int64s, (v) => BigInt(v)).buffer);
  } else if (dataType === OnnxType.INT32) {
    bytes = new Uint8Array(Int32Array.from(ints).buffer);
  } else if (dataType === OnnxType.INT8) {
    bytes = new Uint8Array(Int8Array.from(ints).buffer);
  } else if (dataType === OnnxType.UINT8) {
    bytes = Uint8Array.from(ints);
  } else {
    bytes = new Uint8Array(0);
  }
  if (bytes.length !== size * width) {
    throw corrupt(`tensor ${name} has ${bytes.length} bytes of data for ${size} elements of ${width} bytes`);
  }
  return { name, dims, dataType, size, bytes };
}

function readAttribute(r: Reader): OnnxAttribute {
  const a: OnnxAttribute = { name: '' };
  const ints: number[] = [];
  for (let t = r.tag(); t; t = r.tag()) {
    switch (t.field) {
      case 1: a.name = r.string(); break;
      case 2: a.f = r.float(); break;
      case 3: a.i = r.int64(); break;
      case 4: a.s = r.string(); break;
      case 5: a.t = readTensor(r.sub()); break;
      case 8: r.repeated(t.wire, (x) => x.int64(), ints); break;
      default: r.skip(t.wire);
    }
  }
  if (ints.length > 0) a.ints = ints;
  return a;
}

function readNode(r: Reader): OnnxNode {
  const node: OnnxNode = { opType: '', domain: '', name: '', inputs: [], outputs: [], attributes: new Map() };
  for (let t = r.tag(); t; t = r.tag()) {
    switch (t.field) {
      case 1: node.inputs.push(r.string()); break;
      case 2: node.outputs.push(r.string()); break;
      case 3: node.name = r.string(); break;
      case 4: node.opType = r.string(); break;
      case 5: {
        const a = readAttribute(r.sub());
        node.attributes.set(a.name, a);
        break;
      }
      case 7: node.domain = r.string(); break;
      default: r.skip(t.wire);
    }
  }
  return node;
}

function valueName(r: Reader): string {
  for (let t = r.tag(); t; t = r.tag()) {
    if (t.field === 1) return r.string();
    r.skip(t.wire);
  }
  return '';
}

function readGraph(r: Reader): OnnxGraph {
  const g: OnnxGraph = { nodes: [], constants: new Map(), inputs: [], outputs: [] };
  for (let t = r.tag(); t; t = r.tag()) {
    switch (t.field) {
      case 1: g.nodes.push(readNode(r.sub())); break;
      case 5: {
        const tensor = readTensor(r.sub());
        g.constants.set(tensor.name, tensor);
        break;
      }
      case 11: g.inputs.push(valueName(r.sub())); break;
      case 12: g.outputs.push(valueName(r.sub())); break;
      default: r.skip(t.wire);
    }
  }
  for (const n of g.nodes) {
    const value = n.opType === 'Constant' && n.domain === '' ? n.attributes.get('value')?.t : undefined;
    if (value && n.outputs[0]) g.constants.set(n.outputs[0], { ...value, name: n.outputs[0] });
  }
  // Inputs that are initializers too (older exporters list both) are constants.
  g.inputs = g.inputs.filter((name) => !g.constants.has(name));
  return g;
}

/** Reads the graph of an ONNX model file's bytes. */
export function readOnnxGraph(file: Uint8Array): OnnxGraph {
  // A plain Uint8Array view: a Buffer's slice() would not copy.
  const bytes = new Uint8Array(file.buffer, file.byteOffset, file.length);
  const r = new Reader(bytes, 0, bytes.length);
  let graph: OnnxGraph | undefined;
  for (let t = r.tag(); t; t = r.tag()) {
    if (t.field === 7 && t.wire === 2) graph = readGraph(r.sub());
    else r.skip(t.wire);
  }
  if (!graph) throw corrupt('no graph');
  return graph;
}

/** The tensor's elements as a Float32Array (FLOAT only). */
export function floatsOf(t: OnnxTensor): Float32Array {
  if (t.dataType !== OnnxType.FLOAT) throw createError(ErrorCode.INVALID_ARGUMENT, `tensor ${t.name} is not float32`);
  return t.bytes.byteOffset % 4 === 0
    ? new Float32Array(t.bytes.buffer, t.bytes.byteOffset, t.size)
    : new Float32Array(t.bytes.slice().buffer);
}

/** Integer elements of an INT8, UINT8, INT32 or INT64 tensor, as numbers. */
export function intsOf(t: OnnxTensor): number[] {
  const b = t.bytes;
  switch (t.dataType) {
    case OnnxType.INT8: return Array.from(new Int8Array(b.buffer, b.byteOffset, t.size));
    case OnnxType.UINT8: return Array.from(b.subarray(0, t.size));
    case OnnxType.INT32: return Array.from(new Int32Array(b.slice().buffer));
    case OnnxType.INT64: return Array.from(new BigInt64Array(b.slice().buffer), (v) => Number(v));
    default: throw createError(ErrorCode.INVALID_ARGUMENT, `tensor ${t.name} is not an integer tensor`);
  }
}
