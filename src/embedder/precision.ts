/**
 * The precision of a model's ONNX file, and which file of a model holds it
 * for this CPU.
 *
 * - `'fp32'`: the export as trained (`model.onnx`).
 * - `'q8'`: int8 weights with activations quantised at run time
 *   (onnxruntime's dynamic quantisation, as the int8 exports on the Hugging
 *   Face hub are made). Its matrix products run on int8 dot-product
 *   instructions: several times the fp32 rate on CPUs with VNNI.
 *
 * The hub's sentence-transformers repositories keep one int8 file per CPU
 * family beside the fp32 one (`onnx/model_qint8_avx512_vnni.onnx`, ...);
 * transformers.js exports name theirs `model_quantized.onnx`.
 */
import { cpuFeatures } from '../system.js';

/** The precision of a model file. */
export type Dtype = 'fp32' | 'q8';

/** What `Embedder.load` takes: a precision, or `'auto'` (q8 on CPUs with VNNI when the model has an int8 file, else fp32). */
export type DtypeOption = Dtype | 'auto';

export const DTYPE_OPTIONS: readonly DtypeOption[] = ['fp32', 'q8', 'auto'];

/** The fp32 file of a hub repository. */
export const FP32_FILE = 'onnx/model.onnx';
/** The names of fp32 files in a local directory, in the order they are looked for. */
export const LOCAL_FP32_FILES = ['model.onnx', 'onnx/model.onnx'] as const;

/** The names the hub uses for int8 exports, by the CPU each was made for. */
export const INT8_FILES = {
  avx512Vnni: 'model_qint8_avx512_vnni.onnx',
  avx512: 'model_qint8_avx512.onnx',
  avx2: 'model_quint8_avx2.onnx',
  arm64: 'model_qint8_arm64.onnx',
  quantized: 'model_quantized.onnx',
  int8: 'model_int8.onnx',
} as const;

/** The CPU facts that choose an int8 file. */
export interface CpuInfo {
  arch: string;
  avx512: boolean;
  /** AVX-512 VNNI or AVX-VNNI: int8 dot products in one instruction. */
  vnni: boolean;
}

/** This machine's CPU. */
export function thisCpu(): CpuInfo {
  if (process.arch !== 'x64') return { arch: process.arch, avx512: false, vnni: false };
  const f = cpuFeatures();
  return { arch: process.arch, avx512: f.avx512, vnni: f.avx512Vnni || f.avxVnni };
}

/**
 * The int8 file names, the best fit for the CPU first: the file made for
 * its instruction set, then the generic names (transformers.js's
 * `model_quantized.onnx`, `model_int8.onnx`), then the files made for other
 * CPUs (onnxruntime runs each of them anywhere).
 */
export function int8FileNames(cpu: CpuInfo): string[] {
  const { avx512Vnni, avx512, avx2, arm64, quantized, int8 } = INT8_FILES;
  let own: string[];
  if (cpu.arch === 'arm64') own = [arm64];
  else if (cpu.arch !== 'x64') own = [];
  else if (cpu.vnni && cpu.avx512) own = [avx512Vnni, avx512];
  else if (cpu.vnni) own = [avx512Vnni];
  else if (cpu.avx512) own = [avx512];
  else own = [avx2];
  const rest = [avx512Vnni, avx512, avx2, arm64].filter((n) => !own.includes(n));
  return [...own, quantized, int8, ...rest];
}

/**
 * The precision `'auto'` prefers: `'q8'` on CPUs with int8 dot-product
 * instructions (VNNI), where int8 matrix products run several times the
 * fp32 rate; `'fp32'` elsewhere. A model without an int8 file runs in fp32.
 */
export function defaultDtype(cpu: CpuInfo): Dtype {
  return cpu.arch === 'x64' && cpu.vnni ? 'q8' : 'fp32';
}

/** The precision of a file, judged by its name (an explicit `onnxFile`). */
export function dtypeOfFile(file: string): Dtype {
  const name = file.split('/').pop() ?? file;
  return (Object.values(INT8_FILES) as string[]).includes(name) || /(^|_)(q?u?int8|quantized)(_|\.)/.test(name) ? 'q8' : 'fp32';
}

/** One precision and the files that may hold it, in order of preference. */
export interface OnnxCandidates {
  dtype: Dtype;
  files: string[];
}

/**
 * The files to look for, grouped by precision in order of preference.
 * `layout` 'hub': paths inside a hub repository; 'local': paths inside a
 * model directory (its root and its `onnx/` folder).
 */
export function onnxCandidates(
  choice: { dtype?: DtypeOption | undefined; onnxFile?: string | undefined; fp32File?: string | undefined },
  layout: 'hub' | 'local',
  cpu: CpuInfo,
): OnnxCandidates[] {
  const fp32: OnnxCandidates = { dtype: 'fp32', files: layout === 'hub' ? [choice.fp32File ?? FP32_FILE] : [...LOCAL_FP32_FILES] };
  const names = int8FileNames(cpu);
  const q8: OnnxCandidates = { dtype: 'q8', files: layout === 'hub' ? names.map((n) => `onnx/${n}`) : names.flatMap((n) => [n, `onnx/${n}`]) };
  if (choice.onnxFile !== undefined) {
    const judged = choice.dtype === undefined || choice.dtype === 'auto';
    const given = { dtype: judged ? dtypeOfFile(choice.onnxFile) : (choice.dtype as Dtype), files: [choice.onnxFile] };
    // A local directory without the file given falls back to the usual names.
    return layout === 'local' ? [given, given.dtype === 'q8' ? q8 : fp32] : [given];
  }
  const dtype = choice.dtype === 'auto' ? defaultDtype(cpu) : (choice.dtype ?? 'fp32');
  if (dtype === 'fp32') return [fp32];
  return choice.dtype === 'auto' ? [q8, fp32] : [q8];
}
