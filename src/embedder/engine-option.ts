/** What runs a model (see `EmbedderOptions.engine`): `'auto'` picks semvec's encoder for the int8 BERT exports it recognises. */
export type EngineOption = 'auto' | 'semvec' | 'onnxruntime';
/** What runs a loaded model: semvec's own int8 encoder, or onnxruntime. */
export type EngineName = Exclude<EngineOption, 'auto'>;
export const ENGINE_OPTIONS: readonly EngineOption[] = ['auto', 'semvec', 'onnxruntime'];
