/**
 * Which ONNX file holds a precision for a CPU: the int8 names the hub uses,
 * the order they are looked for in, and the precision 'auto' picks.
 */
import { describe, expect, it } from 'vitest';

import {
  defaultDtype,
  dtypeOfFile,
  int8FileNames,
  onnxCandidates,
  thisCpu,
  type CpuInfo,
} from '../../src/embedder/precision.js';
import { cpuFeatures } from '../../src/system.js';

const vnni512: CpuInfo = { arch: 'x64', avx512: true, vnni: true };
const avx512: CpuInfo = { arch: 'x64', avx512: true, vnni: false };
const avx2: CpuInfo = { arch: 'x64', avx512: false, vnni: false };
const avxVnni: CpuInfo = { arch: 'x64', avx512: false, vnni: true };
const arm: CpuInfo = { arch: 'arm64', avx512: false, vnni: false };

describe('int8 file names', () => {
  it('puts the file made for the CPU first, then the generic names, then the others', () => {
    expect(int8FileNames(vnni512)).toEqual([
      'model_qint8_avx512_vnni.onnx',
      'model_qint8_avx512.onnx',
      'model_quantized.onnx',
      'model_int8.onnx',
      'model_quint8_avx2.onnx',
      'model_qint8_arm64.onnx',
    ]);
    expect(int8FileNames(avx512)[0]).toBe('model_qint8_avx512.onnx');
    expect(int8FileNames(avx2)[0]).toBe('model_quint8_avx2.onnx');
    expect(int8FileNames(avxVnni)[0]).toBe('model_qint8_avx512_vnni.onnx');
    expect(int8FileNames(arm)[0]).toBe('model_qint8_arm64.onnx');
    // Every CPU gets every name once.
    for (const cpu of [vnni512, avx512, avx2, avxVnni, arm]) {
      const names = int8FileNames(cpu);
      expect(new Set(names).size).toBe(names.length);
      expect(names).toHaveLength(6);
    }
  });

  it("'auto' prefers q8 only where the CPU has int8 dot-product instructions", () => {
    expect(defaultDtype(vnni512)).toBe('q8');
    expect(defaultDtype(avxVnni)).toBe('q8');
    expect(defaultDtype(avx512)).toBe('fp32');
    expect(defaultDtype(avx2)).toBe('fp32');
    expect(defaultDtype(arm)).toBe('fp32');
  });

  it('judges an explicit file by its name', () => {
    for (const f of ['onnx/model_quantized.onnx', 'model_int8.onnx', 'onnx/model_quint8_avx2.onnx', 'model_qint8_arm64.onnx', 'x/model_quint8.onnx']) {
      expect(dtypeOfFile(f), f).toBe('q8');
    }
    for (const f of ['model.onnx', 'onnx/model.onnx', 'onnx/model_O4.onnx', 'onnx/model_fp16.onnx']) expect(dtypeOfFile(f), f).toBe('fp32');
  });

  it('groups the candidates by precision: hub paths under onnx/, local ones at the root and under onnx/', () => {
    expect(onnxCandidates({ dtype: 'fp32' }, 'hub', vnni512)).toEqual([{ dtype: 'fp32', files: ['onnx/model.onnx'] }]);
    expect(onnxCandidates({ dtype: 'fp32', fp32File: 'onnx/other.onnx' }, 'hub', vnni512)).toEqual([{ dtype: 'fp32', files: ['onnx/other.onnx'] }]);
    expect(onnxCandidates({}, 'local', avx2)).toEqual([{ dtype: 'fp32', files: ['model.onnx', 'onnx/model.onnx'] }]);
    const q8 = onnxCandidates({ dtype: 'q8' }, 'hub', avx2);
    expect(q8).toHaveLength(1);
    expect(q8[0]!.files[0]).toBe('onnx/model_quint8_avx2.onnx');
    const local = onnxCandidates({ dtype: 'q8' }, 'local', avx2)[0]!.files;
    expect(local.slice(0, 2)).toEqual(['model_quint8_avx2.onnx', 'onnx/model_quint8_avx2.onnx']);
    // 'auto': q8 then fp32 on a VNNI CPU, fp32 alone elsewhere.
    expect(onnxCandidates({ dtype: 'auto' }, 'hub', vnni512).map((g) => g.dtype)).toEqual(['q8', 'fp32']);
    expect(onnxCandidates({ dtype: 'auto' }, 'hub', avx2).map((g) => g.dtype)).toEqual(['fp32']);
    // An explicit file: alone on the hub; locally, the usual names of its precision follow.
    expect(onnxCandidates({ onnxFile: 'onnx/model_O2.onnx' }, 'hub', avx2)).toEqual([{ dtype: 'fp32', files: ['onnx/model_O2.onnx'] }]);
    expect(onnxCandidates({ onnxFile: 'my_int8.onnx', dtype: 'q8' }, 'local', avx2).map((g) => g.dtype)).toEqual(['q8', 'q8']);
  });

  it('reads this CPU from the native core', () => {
    const cpu = thisCpu();
    expect(cpu.arch).toBe(process.arch);
    if (process.arch === 'x64') {
      const f = cpuFeatures();
      expect(cpu.avx512).toBe(f.avx512);
      expect(cpu.vnni).toBe(f.avx512Vnni || f.avxVnni);
      // VNNI in its AVX-512 form implies AVX-512; every x64 CPU with AVX-512 has AVX2.
      if (f.avx512Vnni) expect(f.avx512).toBe(true);
      if (f.avx512) expect(f.avx2).toBe(true);
    }
  });
});
