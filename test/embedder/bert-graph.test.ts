import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { findBert } from '../../src/embedder/bert-graph.js';
import { floatsOf, intsOf, OnnxType, readOnnxGraph } from '../../src/embedder/onnx-file.js';
import { haveMiniLmShapeQ8, haveToyModel, miniLmShapeQ8, sharedModels, toyOnnx } from '../helpers/models.js';

describe.skipIf(!haveMiniLmShapeQ8)('the ONNX reader and the BERT finder on the MiniLM-shaped int8 export', () => {
  const file = haveMiniLmShapeQ8 ? readFileSync(miniLmShapeQ8) : Buffer.alloc(0);

  it('reads the graph: inputs, output, nodes and constant tensors with their shapes and values', () => {
    const g = readOnnxGraph(file);
    expect(g.inputs).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    expect(g.outputs).toEqual(['last_hidden_state']);
    expect(g.nodes.filter((n) => n.opType === 'MatMulInteger')).toHaveLength(36);
    expect(g.nodes.filter((n) => n.opType === 'DynamicQuantizeLinear')).toHaveLength(24);
    const word = g.constants.get('embeddings.word_embeddings.weight_quantized')!;
    expect(word).toMatchObject({ dims: [30522, 384], dataType: OnnxType.UINT8, size: 30522 * 384 });
    const q = g.constants.get('encoder.layer.0.attention.self.query.weight_quantized')!;
    expect(q).toMatchObject({ dims: [384, 384], dataType: OnnxType.INT8 });
    // Per-channel scales: 384 positive floats; zero points of a symmetric int8 quantisation.
    const scale = floatsOf(g.constants.get('encoder.layer.0.attention.self.query.weight_scale')!);
    expect(scale).toHaveLength(384);
    expect(Math.min(...scale)).toBeGreaterThan(0);
    expect(intsOf(g.constants.get('encoder.layer.0.attention.self.query.weight_zero_point')!).every((z) => z === 0)).toBe(true);
    const heads = g.nodes.find((n) => n.opType === 'Reshape' && g.constants.get(n.inputs[1]!)?.size === 4)!;
    expect(intsOf(g.constants.get(heads.inputs[1]!)!)).toEqual([0, 0, 12, 32]);
  });

  it('finds the encoder: 6 layers of 384 with 12 heads, FFN 1536, erf GELU, the weights in their roles', () => {
    const g = readOnnxGraph(file);
    const found = findBert(g);
    if ('reason' in found) throw new Error(found.reason);
    const { spec } = found;
    expect({ hidden: spec.hidden, heads: spec.heads, intermediate: spec.intermediate, gelu: spec.gelu, layers: spec.layers.length }).toEqual({
      hidden: 384, heads: 12, intermediate: 1536, gelu: 'erf', layers: 6,
    });
    expect(spec.layerNormEps).toBeCloseTo(1e-12, 15);
    expect(found).toMatchObject({ vocab: 30522, maxPositions: 512 });
    expect(spec.tokenType).toBeDefined();
    // Each role holds the weights the exporter named for it (the finder never reads names).
    const same = (a: ArrayBufferView, name: string) => {
      const b = g.constants.get(name)!.bytes;
      return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
    };
    for (const [layer, l] of spec.layers.entries()) {
      const at = `encoder.layer.${layer}`;
      expect(same(l.query.weight, `${at}.attention.self.query.weight_quantized`)).toBe(true);
      expect(same(l.key.weight, `${at}.attention.self.key.weight_quantized`)).toBe(true);
      expect(same(l.value.weight, `${at}.attention.self.value.weight_quantized`)).toBe(true);
      expect(same(l.output.weight, `${at}.attention.output.dense.weight_quantized`)).toBe(true);
      expect(same(l.intermediate.weight, `${at}.intermediate.dense.weight_quantized`)).toBe(true);
      expect(same(l.ffnOutput.weight, `${at}.output.dense.weight_quantized`)).toBe(true);
      expect(same(l.intermediate.bias, `${at}.intermediate.dense.bias`)).toBe(true);
      expect(same(l.outputNorm.gamma, `${at}.output.LayerNorm.weight`)).toBe(true);
      expect(same(l.attentionNorm.beta, `${at}.attention.output.LayerNorm.bias`)).toBe(true);
      expect(same(l.query.scale, `${at}.attention.self.query.weight_scale`)).toBe(true);
    }
    expect(same(spec.word.data, 'embeddings.word_embeddings.weight_quantized')).toBe(true);
  });

  it('a graph changed where the finder looks is refused with the reason', () => {
    const g = readOnnxGraph(file);
    // The feed-forward activation replaced: no Erf / Gelu between the products.
    for (const n of g.nodes) if (n.opType === 'Erf') n.opType = 'Relu';
    expect(findBert(g)).toEqual({ reason: expect.stringMatching(/layer 0: the feed-forward activation is not GELU/) });
    const h = readOnnxGraph(file);
    // A residual connection dropped from the first layer's output norm.
    const sum = h.nodes.find((n) => n.opType === 'Add' && n.inputs.includes('add_54'));
    expect(sum).toBeDefined();
    sum!.inputs = sum!.inputs.map((x) => (x === 'add_54' ? 'add_18' : x));
    expect(findBert(h)).toMatchObject({ reason: expect.stringMatching(/layer 0/) });
  });

  it('a damaged file is ERR_CORRUPT_FILE', () => {
    expect(() => readOnnxGraph(file.subarray(0, 1000))).toThrow(expect.objectContaining({ code: 'ERR_CORRUPT_FILE' }));
    expect(() => readOnnxGraph(Buffer.from([0x3a, 0x05, 0x0a]))).toThrow(expect.objectContaining({ code: 'ERR_CORRUPT_FILE' }));
    expect(() => readOnnxGraph(Buffer.from([0x08, 0x07]))).toThrow(expect.objectContaining({ code: 'ERR_CORRUPT_FILE', message: expect.stringMatching(/no graph/) }));
  });
});

describe.skipIf(!haveToyModel)('the BERT finder on graphs that are not int8 BERT encoders', () => {
  it('the toy fp32 model has no int8 products; its int8 export has no layer norms', () => {
    expect(findBert(readOnnxGraph(readFileSync(toyOnnx)))).toEqual({ reason: 'the graph has no int8 matrix products (MatMulInteger)' });
    const q8 = join(sharedModels, 'toy-random-bert', 'model_quantized.onnx');
    expect(findBert(readOnnxGraph(readFileSync(q8)))).toEqual({ reason: 'tensor emb is not the output of a layer norm' });
  });
});
