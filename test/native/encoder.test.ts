/**
 * The native int8 encoder's binding: typed arrays in and out, sync and async
 * calls agree, native errors arrive as SemvecErrors with their codes, and
 * release() while async work runs is safe.
 */
import { describe, expect, it } from 'vitest';

import { native, type NativeEncoderLinear, type NativeEncoderNorm, type NativeEncoderSpec } from '../../src/native.js';
import { codeOf } from '../helpers/errors.js';

/** A deterministic pseudo-random stream (xorshift32) in [0, 1). */
function stream(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

function tinySpec(seed = 1): NativeEncoderSpec {
  const r = stream(seed);
  const hidden = 8, inter = 16;
  const floats = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
  const linear = (inp: number, out: number): NativeEncoderLinear => ({
    weight: Int8Array.from({ length: inp * out }, () => Math.floor(r() * 255) - 127),
    scale: Float32Array.from({ length: out }, () => 0.01 + r() * 0.01),
    zeroPoint: new Int32Array(1),
    bias: floats(out, 0.1),
  });
  const norm = (): NativeEncoderNorm => ({ gamma: Float32Array.from({ length: hidden }, () => 0.9 + 0.2 * r()), beta: floats(hidden, 0.1) });
  return {
    hidden,
    heads: 2,
    intermediate: inter,
    layerNormEps: 1e-12,
    gelu: 'erf',
    word: { data: floats(10 * hidden) },
    position: { data: Uint8Array.from({ length: 6 * hidden }, () => Math.floor(r() * 256)), scale: 0.01, zeroPoint: 128 },
    tokenType: { data: floats(2 * hidden, 0.5) },
    embeddingNorm: norm(),
    layers: [
      {
        query: linear(hidden, hidden),
        key: linear(hidden, hidden),
        value: linear(hidden, hidden),
        output: linear(hidden, hidden),
        attentionNorm: norm(),
        intermediate: linear(hidden, inter),
        ffnOutput: linear(inter, hidden),
        outputNorm: norm(),
      },
    ],
  };
}

describe('native encoder', () => {
  it('encodes packed sequences, sync and async alike, each as it encodes alone', async () => {
    const enc = new (native().Encoder)(tinySpec(), 2);
    expect([enc.hidden, enc.layers, enc.maxPositions, enc.vocab]).toEqual([8, 1, 6, 10]);
    expect(enc.memoryUsage()).toBeGreaterThan(0);
    const ids = Int32Array.from([1, 2, 3, 9, 4, 5]);
    const types = Int32Array.from([0, 0, 1, 0, 1, 1]);
    const lengths = Uint32Array.from([3, 1, 2]);
    const out = enc.encode(ids, types, lengths, 'mean');
    expect(out).toBeInstanceOf(Float32Array);
    expect(out.length).toBe(3 * 8);
    expect(out.every(Number.isFinite)).toBe(true);
    expect(await enc.encodeAsync(ids, types, lengths, 'mean')).toEqual(out);
    const alone = enc.encode(ids.subarray(3, 4), types.subarray(3, 4), Uint32Array.from([1]), 'mean');
    expect(Array.from(alone)).toEqual(Array.from(out.subarray(8, 16)));
    // cls differs from mean for a sequence of several tokens; null type ids are all 0.
    const cls = enc.encode(ids, types, lengths, 'cls');
    expect(Array.from(cls.subarray(0, 8))).not.toEqual(Array.from(out.subarray(0, 8)));
    expect(enc.encode(ids, null, lengths, 'mean')).toEqual(enc.encode(ids, new Int32Array(6), lengths, 'mean'));
    enc.release();
  });

  it('rejects bad specs and inputs with SemvecError codes', async () => {
    const spec = tinySpec();
    expect(codeOf(() => new (native().Encoder)({ ...spec, heads: 3 }))).toBe('ERR_DIMENSION_MISMATCH');
    const badLayer = { ...spec.layers[0]!, query: { ...spec.layers[0]!.query, weight: new Int8Array(63) } };
    expect(codeOf(() => new (native().Encoder)({ ...spec, layers: [badLayer] }))).toBe('ERR_DIMENSION_MISMATCH');
    const nanScale = { ...spec.layers[0]!, key: { ...spec.layers[0]!.key, scale: Float32Array.of(NaN) } };
    expect(codeOf(() => new (native().Encoder)({ ...spec, layers: [nanScale] }))).toBe('ERR_INVALID_ARGUMENT');
    const wrongType = { ...spec, word: { data: new Float64Array(80) } } as unknown as NativeEncoderSpec;
    expect(codeOf(() => new (native().Encoder)(wrongType))).toBe('ERR_INVALID_ARGUMENT');

    const enc = new (native().Encoder)(spec, 1);
    const lengths = Uint32Array.from([2]);
    expect(codeOf(() => enc.encode(Int32Array.from([1, 10]), null, lengths, 'mean'))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => enc.encode(Int32Array.from([1, 2]), Int32Array.from([0, 2]), lengths, 'mean'))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => enc.encode(Int32Array.from([1, 2]), Int32Array.from([0]), lengths, 'mean'))).toBe('ERR_DIMENSION_MISMATCH');
    expect(codeOf(() => enc.encode(Int32Array.from([1, 2, 3]), null, lengths, 'mean'))).toBe('ERR_DIMENSION_MISMATCH');
    expect(codeOf(() => enc.encode(Int32Array.from(new Array(7).fill(1)), null, Uint32Array.from([7]), 'mean'))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => enc.encode(Int32Array.from([1, 2]), null, lengths, 'max' as 'mean'))).toBe('ERR_INVALID_ARGUMENT');
    await expect(enc.encodeAsync(Int32Array.from([1, -1]), null, lengths, 'mean')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('release() while encodeAsync runs lets the call finish; later calls throw ERR_CLOSED', async () => {
    const enc = new (native().Encoder)(tinySpec(), 2);
    const ids = Int32Array.from({ length: 6 * 200 }, (_, i) => i % 10);
    const lengths = new Uint32Array(200).fill(6);
    const pending = enc.encodeAsync(ids, null, lengths, 'cls');
    enc.release();
    const out = await pending;
    expect(out.length).toBe(200 * 8);
    // sequences 0 and 5 hold the same ids
    expect(Array.from(out.subarray(0, 8))).toEqual(Array.from(out.subarray(40, 48)));
    expect(codeOf(() => enc.encode(ids, null, lengths, 'cls'))).toBe('ERR_CLOSED');
    expect(enc.hidden).toBe(8);
    expect(enc.memoryUsage()).toBe(0);
  });
});
