/**
 * Finds a BERT encoder in an int8 ONNX graph (onnxruntime's dynamic
 * quantisation, as the hub's int8 exports are made) and takes out its
 * weights for semvec's own encoder (native/core/encoder.h).
 *
 * The graph is followed by its data flow, not by tensor names (exporters
 * name weights differently): every `MatMulInteger` with constant int8
 * weights is a linear layer; three of them reading one tensor are a
 * layer's query, key and value (told apart by where they meet in the
 * attention products), then come the attention output, the two
 * feed-forward layers and the layer norms around them. A graph that
 * differs anywhere is not taken (`{ reason }`), and onnxruntime runs it.
 * What this cannot see (the attention's scaling and masking, say) is
 * checked by comparing outputs with onnxruntime when the model is loaded.
 */
import { floatsOf, intsOf, OnnxType, type OnnxGraph, type OnnxNode, type OnnxTensor } from './onnx-file.js';
import type { NativeEncoderLinear, NativeEncoderNorm, NativeEncoderSpec, NativeEncoderTable } from '../native.js';

/** What the graph holds, or why it is not a BERT encoder semvec runs. */
export type BertGraph = { spec: NativeEncoderSpec; maxPositions: number; vocab: number } | { reason: string };

class NotBert extends Error {}

function not(reason: string): never {
  throw new NotBert(reason);
}

interface Linear extends NativeEncoderLinear {
  input: string;
  output: string;
  node: number;
  inFeatures: number;
  outFeatures: number;
}

interface Norm extends NativeEncoderNorm {
  input: string;
  eps: number;
}

/** The view ops a tensor passes through between a linear layer and the attention products. */
const RESHAPES = new Set(['Reshape', 'Transpose', 'Squeeze', 'Unsqueeze', 'Mul', 'Div']);

class Graph {
  readonly producer = new Map<string, OnnxNode>();
  readonly consumers = new Map<string, OnnxNode[]>();
  readonly index = new Map<OnnxNode, number>();

  constructor(readonly g: OnnxGraph) {
    g.nodes.forEach((n, i) => {
      this.index.set(n, i);
      for (const o of n.outputs) this.producer.set(o, n);
      for (const x of n.inputs) {
        if (!x) continue;
        const list = this.consumers.get(x) ?? [];
        list.push(n);
        this.consumers.set(x, list);
      }
    });
  }

  constant(name: string | undefined): OnnxTensor | undefined {
    return name === undefined ? undefined : this.g.constants.get(name);
  }

  /** The node making `name` if it is `op`. */
  made(name: string | undefined, op: string): OnnxNode | undefined {
    if (name === undefined) return undefined;
    const n = this.producer.get(name);
    return n && n.opType === op ? n : undefined;
  }

  /** The one consumer of `name` that is `op`. */
  usedBy(name: string, op: string): OnnxNode | undefined {
    const list = (this.consumers.get(name) ?? []).filter((n) => n.opType === op);
    return list.length === 1 ? list[0] : undefined;
  }

  /** For a binary node with `name` as one input, the other input. */
  other(n: OnnxNode, name: string): string | undefined {
    if (n.inputs.length !== 2) return undefined;
    if (n.inputs[0] === name) return n.inputs[1];
    if (n.inputs[1] === name) return n.inputs[0];
    return undefined;
  }

  /** A binary node's constant input and its other input. */
  split(n: OnnxNode): { c: OnnxTensor; x: string } | undefined {
    for (const [a, b] of [[0, 1], [1, 0]] as const) {
      const c = this.constant(n.inputs[a]);
      const x = n.inputs[b];
      if (c && x !== undefined && !this.constant(x)) return { c, x };
    }
    return undefined;
  }

  /** A scalar float constant's value. */
  scalar(name: string | undefined): number | undefined {
    const c = this.constant(name);
    return c && c.dataType === OnnxType.FLOAT && c.size === 1 ? (floatsOf(c)[0] as number) : undefined;
  }
}

function floatVector(t: OnnxTensor, length: number, what: string): Float32Array {
  if (t.dataType !== OnnxType.FLOAT || t.size !== length) not(`${what} is not ${length} float32 values`);
  return floatsOf(t).slice();
}

/** The linear layers: MatMulInteger with constant int8 weights, dequantised and with its bias. */
function findLinears(G: Graph): Linear[] {
  const out: Linear[] = [];
  G.g.nodes.forEach((mm, node) => {
    if (mm.opType !== 'MatMulInteger') return;
    const [aq, wq, azp, wzp] = mm.inputs;
    const w = G.constant(wq);
    const dq = G.made(aq, 'DynamicQuantizeLinear');
    if (!w || !dq || w.dims.length !== 2) not(`MatMulInteger ${mm.name} is not a dynamically quantised product with constant weights`);
    if (azp !== dq.outputs[2]) not(`MatMulInteger ${mm.name} does not take its activation's zero point`);
    const [inFeatures, outFeatures] = w.dims as [number, number];
    let weight: Int8Array;
    let zero: number[] = wzp ? intsOf(G.constant(wzp) ?? not(`MatMulInteger ${mm.name} has a weight zero point that is not constant`)) : [0];
    if (w.dataType === OnnxType.INT8) {
      weight = new Int8Array(w.bytes.buffer, w.bytes.byteOffset, w.size).slice();
    } else if (w.dataType === OnnxType.UINT8) {
      // (w - z) = (w - 128) - (z - 128): uint8 weights as int8.
      weight = Int8Array.from(w.bytes.subarray(0, w.size), (v) => v - 128);
      zero = zero.map((z) => z - 128);
    } else {
      return not(`MatMulInteger ${mm.name} has weights of ONNX type ${w.dataType}`);
    }
    if (zero.some((z) => z < -128 || z > 127)) not(`MatMulInteger ${mm.name} has a weight zero point outside int8`);
    // Cast -> Mul(activation scale x weight scale) [-> Add(bias)]
    const out0 = mm.outputs[0] as string;
    const cast = G.usedBy(out0, 'Cast');
    const mul = cast && G.usedBy(cast.outputs[0] as string, 'Mul');
    const scales = mul && G.made(G.other(mul, cast.outputs[0] as string), 'Mul');
    const wscaleName = scales && G.other(scales, dq.outputs[1] as string);
    const wscale = G.constant(wscaleName);
    if (!mul || !wscale || wscale.dataType !== OnnxType.FLOAT) not(`MatMulInteger ${mm.name} is not dequantised by its scales`);
    const scale = floatsOf(wscale).slice();
    if (scale.length !== 1 && scale.length !== outFeatures) not(`MatMulInteger ${mm.name} has ${scale.length} weight scales for ${outFeatures} columns`);
    if (zero.length !== 1 && zero.length !== outFeatures) not(`MatMulInteger ${mm.name} has ${zero.length} weight zero points for ${outFeatures} columns`);
    let output = mul.outputs[0] as string;
    let bias: Float32Array = new Float32Array(outFeatures);
    const add = G.usedBy(output, 'Add');
    const biasTensor = add && G.constant(G.other(add, output));
    if (add && biasTensor && biasTensor.size === outFeatures && biasTensor.dims.length === 1) {
      bias = floatVector(biasTensor, outFeatures, `the bias of ${mm.name}`);
      output = add.outputs[0] as string;
    }
    out.push({
      input: dq.inputs[0] as string,
      output,
      node,
      inFeatures,
      outFeatures,
      weight,
      scale,
      zeroPoint: Int32Array.from(zero),
      bias,
    });
  });
  return out;
}

/** The layer norm whose output is `name`: a LayerNormalization node or its decomposed form. */
function normBefore(G: Graph, name: string, hidden: number): Norm {
  const ln = G.producer.get(name);
  if (ln && ln.opType === 'LayerNormalization') {
    const gamma = G.constant(ln.inputs[1]);
    const beta = G.constant(ln.inputs[2]);
    const axis = ln.attributes.get('axis')?.i ?? -1;
    if (!gamma || !beta || (axis !== -1 && axis !== 2)) not(`LayerNormalization ${ln.name} is not over the last axis with constant weights`);
    return {
      input: ln.inputs[0] as string,
      gamma: floatVector(gamma, hidden, `the scale of ${ln.name}`),
      beta: floatVector(beta, hidden, `the bias of ${ln.name}`),
      eps: ln.attributes.get('epsilon')?.f ?? 1e-5,
    };
  }
  // Add(Mul(Div(Sub(x, mean(x)), Sqrt(Add(mean(Pow(Sub, 2)), eps))), gamma), beta)
  const add = G.made(name, 'Add');
  const betaSide = add && G.split(add);
  const mul = betaSide && G.made(betaSide.x, 'Mul');
  const gammaSide = mul && G.split(mul);
  const div = gammaSide && G.made(gammaSide.x, 'Div');
  const sub = div && G.made(div.inputs[0], 'Sub');
  const sqrt = div && G.made(div.inputs[1], 'Sqrt');
  const epsAdd = sqrt && G.made(sqrt.inputs[0], 'Add');
  const eps = epsAdd && G.split(epsAdd);
  const mean = sub && G.made(sub.inputs[1], 'ReduceMean');
  if (!betaSide || !gammaSide || !sub || !eps || !mean || mean.inputs[0] !== sub.inputs[0]) {
    not(`tensor ${name} is not the output of a layer norm`);
  }
  const epsValue = eps.c.dataType === OnnxType.FLOAT && eps.c.size === 1 ? (floatsOf(eps.c)[0] as number) : not(`the layer norm before ${name} has no scalar epsilon`);
  return {
    input: sub.inputs[0] as string,
    gamma: floatVector(gammaSide.c, hidden, `the layer norm scale before ${name}`),
    beta: floatVector(betaSide.c, hidden, `the layer norm bias before ${name}`),
    eps: epsValue,
  };
}

/** Whether `name` is Add(a, b) in either order. */
function isSum(G: Graph, name: string, a: string, b: string): boolean {
  const n = G.made(name, 'Add');
  return !!n && ((n.inputs[0] === a && n.inputs[1] === b) || (n.inputs[0] === b && n.inputs[1] === a));
}

/** Where a linear layer's output meets a MatMul, through view ops: the MatMul and the input it is. */
function attentionUse(G: Graph, from: string): { node: OnnxNode; slot: number; heads?: number } | undefined {
  let heads: number | undefined;
  const seen = new Set<string>();
  const queue = [from];
  while (queue.length > 0) {
    const t = queue.shift() as string;
    if (seen.has(t)) continue;
    seen.add(t);
    for (const n of G.consumers.get(t) ?? []) {
      if (n.opType === 'MatMul') return { node: n, slot: n.inputs.indexOf(t), heads };
      if (!RESHAPES.has(n.opType)) continue;
      if (n.opType === 'Reshape') {
        const shape = G.constant(n.inputs[1]);
        if (shape && shape.size === 4) heads ??= intsOf(shape)[2];
      }
      queue.push(...n.outputs);
    }
  }
  return undefined;
}

/** The tensor a DynamicQuantizeLinear reads after `from`, through view ops. */
function quantisedAfter(G: Graph, from: string, inputs: ReadonlySet<string>): string | undefined {
  const queue = [from];
  for (let steps = 0; queue.length > 0 && steps < 16; steps++) {
    const t = queue.shift() as string;
    if (inputs.has(t)) return t;
    for (const n of G.consumers.get(t) ?? []) if (n.opType === 'Reshape' || n.opType === 'Transpose') queue.push(...n.outputs);
  }
  return undefined;
}

/** The ops between two tensors (walking back from `to` until `from`). */
function opsBetween(G: Graph, from: string, to: string): Set<string> {
  const ops = new Set<string>();
  const queue = [to];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const t = queue.shift() as string;
    if (t === from || seen.has(t)) continue;
    seen.add(t);
    const n = G.producer.get(t);
    if (!n) continue;
    ops.add(n.opType);
    if (ops.size > 12) break;
    queue.push(...n.inputs.filter((x) => x && !G.constant(x)));
  }
  return ops;
}

/** An embedding table: a constant, or a constant gathered in int8 / uint8 and dequantised. */
function table(G: Graph, gathered: string, hidden: number): { table: NativeEncoderTable; rows: number; index: string } {
  const deq = G.made(gathered, 'DequantizeLinear');
  const gather = G.made(deq ? deq.inputs[0] : gathered, 'Gather');
  const data = gather && G.constant(gather.inputs[0]);
  if (!gather || !data || data.dims.length !== 2 || data.dims[1] !== hidden || (gather.attributes.get('axis')?.i ?? 0) !== 0) {
    not(`tensor ${gathered} is not a row of a constant embedding table`);
  }
  const rows = data.dims[0] as number;
  const index = gather.inputs[1] as string;
  if (!deq) {
    if (data.dataType !== OnnxType.FLOAT) not(`embedding table ${data.name} is not float32`);
    return { table: { data: floatsOf(data).slice() }, rows, index };
  }
  const scale = G.scalar(deq.inputs[1]);
  const zp = G.constant(deq.inputs[2]);
  if (scale === undefined || (zp && zp.size !== 1)) not(`embedding table ${data.name} is not quantised per tensor`);
  const zeroPoint = zp ? (intsOf(zp)[0] as number) : 0;
  const bytes = data.bytes.subarray(0, data.size);
  if (data.dataType === OnnxType.UINT8) return { table: { data: bytes.slice(), scale, zeroPoint }, rows, index };
  if (data.dataType === OnnxType.INT8) return { table: { data: new Int8Array(bytes.slice().buffer), scale, zeroPoint }, rows, index };
  return not(`embedding table ${data.name} has ONNX type ${data.dataType}`);
}

/** The terms of a sum of Adds (its leaves). */
function addends(G: Graph, name: string, out: string[] = []): string[] {
  const n = G.made(name, 'Add');
  if (n && n.inputs.length === 2 && !G.constant(n.inputs[0]) && !G.constant(n.inputs[1])) {
    addends(G, n.inputs[0] as string, out);
    addends(G, n.inputs[1] as string, out);
  } else {
    out.push(name);
  }
  return out;
}

function embeddings(G: Graph, sum: string, hidden: number, inputs: readonly string[]) {
  let word: ReturnType<typeof table> | undefined;
  let position: ReturnType<typeof table> | undefined;
  let tokenType: ReturnType<typeof table> | undefined;
  for (const term of addends(G, sum)) {
    const t = table(G, term, hidden);
    if (t.index === 'input_ids') word = t;
    else if (t.index === 'token_type_ids') tokenType = t;
    else if (!inputs.includes(t.index) && !position) position = t; // computed 0..seq-1 (checked against onnxruntime at load)
    else not(`embedding ${term} is indexed by the input ${t.index}`);
  }
  if (!word || !position) not('the embeddings are not a sum of word and position tables');
  return { word, position, tokenType };
}

/**
 * The BERT encoder in an int8 graph. `heads` comes from the model's
 * config.json when it has one (`num_attention_heads`), else from the
 * graph's head reshape.
 */
export function findBert(g: OnnxGraph, config: { heads?: number } = {}): BertGraph {
  try {
    return readBert(new Graph(g), config.heads);
  } catch (err) {
    if (err instanceof NotBert) return { reason: err.message };
    throw err;
  }
}

function readBert(G: Graph, configHeads: number | undefined): BertGraph {
  if (!G.g.inputs.includes('input_ids')) not('the graph has no input_ids input');
  let output = G.g.outputs.includes('last_hidden_state') ? 'last_hidden_state' : G.g.outputs[0];
  if (output === undefined) not('the graph has no output');
  for (let id = G.made(output, 'Identity'); id; id = G.made(output, 'Identity')) output = id.inputs[0] as string;
  const linears = findLinears(G);
  if (linears.length === 0) not('the graph has no int8 matrix products (MatMulInteger)');
  const hidden = linears[0]!.inFeatures;
  const quantInputs = new Set(linears.map((l) => l.input));
  const byInput = new Map<string, Linear[]>();
  for (const l of linears) byInput.set(l.input, [...(byInput.get(l.input) ?? []), l]);

  const first = linears[0]!;
  const embNorm = normBefore(G, first.input, hidden);
  const emb = embeddings(G, embNorm.input, hidden, G.g.inputs);
  const eps = embNorm.eps;
  let x = first.input;
  let heads = configHeads;
  const layers: NativeEncoderSpec['layers'] = [];
  let intermediate = 0;
  let gelu: 'erf' | 'tanh' = 'erf';
  const used = new Set<Linear>();
  while (x !== output) {
    const at = layers.length;
    const qkv = byInput.get(x) ?? [];
    if (qkv.length !== 3) not(`layer ${at}: ${qkv.length} int8 products read its input ${x}; expected query, key and value`);
    const uses = qkv.map((l) => attentionUse(G, l.output) ?? not(`layer ${at}: product ${l.output} does not reach the attention`));
    const scores = uses.find((u, i) => u.slot === 0 && uses.some((v, j) => j !== i && v.node === u.node && v.slot === 1));
    const qi = uses.indexOf(scores as (typeof uses)[number]);
    const ki = uses.findIndex((u, j) => j !== qi && u.node === scores?.node && u.slot === 1);
    const vi = [0, 1, 2].find((j) => j !== qi && j !== ki) as number;
    if (!scores || ki < 0 || uses[vi]!.slot !== 1 || uses[vi]!.node === scores.node) not(`layer ${at}: query, key and value are not told apart`);
    heads ??= uses[qi]!.heads;
    const [q, k, v] = [qkv[qi]!, qkv[ki]!, qkv[vi]!];
    for (const l of [q, k, v]) if (l.outFeatures !== hidden || l.inFeatures !== hidden) not(`layer ${at}: attention products are not ${hidden} x ${hidden}`);
    const context = uses[vi]!.node.outputs[0] as string;
    const oInput = quantisedAfter(G, context, quantInputs) ?? not(`layer ${at}: the attention output is not quantised into a product`);
    const o = (byInput.get(oInput) ?? [])[0] ?? not(`layer ${at}: no output product`);
    // The next products in the graph's order: the feed-forward layers.
    const after = linears.filter((l) => l.node > o.node && !used.has(l) && l !== q && l !== k && l !== v).sort((a, b) => a.node - b.node);
    const [ffn1, ffn2] = after;
    if (!ffn1 || !ffn2) not(`layer ${at}: no feed-forward products`);
    const n1 = normBefore(G, ffn1.input, hidden);
    if (!isSum(G, n1.input, o.output, x)) not(`layer ${at}: the attention's layer norm does not read its output plus the layer's input`);
    if (ffn2.outFeatures !== hidden || ffn1.outFeatures !== ffn2.inFeatures) not(`layer ${at}: feed-forward shapes do not chain`);
    intermediate ||= ffn1.outFeatures;
    if (ffn1.outFeatures !== intermediate) not(`layer ${at}: feed-forward size ${ffn1.outFeatures} differs from ${intermediate}`);
    const act = opsBetween(G, ffn1.output, ffn2.input);
    if (act.has('Tanh') || act.has('FastGelu')) gelu = 'tanh';
    else if (!act.has('Erf') && !act.has('Gelu')) not(`layer ${at}: the feed-forward activation is not GELU (ops: ${[...act].join(', ')})`);
    // The layer's output: the norm of the second product plus the first norm's output.
    const next = linears.find((l) => l.node > ffn2.node && !used.has(l))?.input ?? output;
    const n2 = normBefore(G, next, hidden);
    if (!isSum(G, n2.input, ffn2.output, ffn1.input)) not(`layer ${at}: the output layer norm does not read the feed-forward output plus its input`);
    for (const n of [n1, n2]) if (Math.abs(n.eps - eps) > 1e-3 * eps) not(`layer ${at}: layer norm epsilons differ (${n.eps} and ${eps})`);
    for (const l of [q, k, v, o, ffn1, ffn2]) used.add(l);
    layers.push({
      query: strip(q), key: strip(k), value: strip(v), output: strip(o),
      attentionNorm: { gamma: n1.gamma, beta: n1.beta },
      intermediate: strip(ffn1), ffnOutput: strip(ffn2),
      outputNorm: { gamma: n2.gamma, beta: n2.beta },
    });
    x = next;
  }
  if (used.size !== linears.length) not(`${linears.length - used.size} int8 products are outside the encoder layers`);
  if (!heads || hidden % heads !== 0) not(`the number of attention heads (${heads}) does not divide the hidden size ${hidden}`);
  return {
    spec: {
      hidden,
      heads,
      intermediate,
      layerNormEps: eps,
      gelu,
      word: emb.word.table,
      position: emb.position.table,
      ...(emb.tokenType ? { tokenType: emb.tokenType.table } : {}),
      embeddingNorm: { gamma: embNorm.gamma, beta: embNorm.beta },
      layers,
    },
    maxPositions: emb.position.rows,
    vocab: emb.word.rows,
  };
}

function strip(l: Linear): NativeEncoderLinear {
  return { weight: l.weight, scale: l.scale, zeroPoint: l.zeroPoint, bias: l.bias };
}
