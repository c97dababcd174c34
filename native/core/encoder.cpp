#include "encoder.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <string>

#include "errors.h"

namespace semvec {

namespace {

// Tokens encoded together (whole sequences): bounds the scratch memory of
// a call and keeps the activations near the caches.
constexpr size_t kChunkTokens = 1024;
// Rows of one task of the row-wise passes and of the GEMMs.
constexpr size_t kRowTask = 16;
constexpr size_t kGemmRowTask = 64;
// Bytes of weights one GEMM task streams (a panel of column blocks).
constexpr size_t kGemmPanelBytes = 192 * 1024;

std::string n2s(size_t n) { return std::to_string(n); }

[[noreturn]] void mismatch(const std::string& what) { throw Error(ErrorCode::DimensionMismatch, what); }
[[noreturn]] void invalid(const std::string& what) { throw Error(ErrorCode::InvalidArgument, what); }

void check_finite(const float* v, size_t n, const std::string& name) {
  for (size_t i = 0; i < n; ++i)
    if (!std::isfinite(v[i]))
      invalid(name + " must hold finite values; received " + std::to_string(v[i]) + " at " + n2s(i));
}

void check_norm(const EncoderNormSpec& n, size_t hidden, const std::string& name) {
  if (n.gamma == nullptr || n.gamma_length != hidden)
    mismatch(name + ".gamma must have hidden = " + n2s(hidden) + " values; received " + n2s(n.gamma_length));
  if (n.beta == nullptr || n.beta_length != hidden)
    mismatch(name + ".beta must have hidden = " + n2s(hidden) + " values; received " + n2s(n.beta_length));
  check_finite(n.gamma, hidden, name + ".gamma");
  check_finite(n.beta, hidden, name + ".beta");
}

void check_linear(const EncoderLinearSpec& l, size_t in, size_t out, const std::string& name) {
  if (l.weight == nullptr || l.weight_length != in * out)
    mismatch(name + ".weight must have in * out = " + n2s(in) + " * " + n2s(out) + " = " + n2s(in * out) +
             " values; received " + n2s(l.weight_length));
  if (l.scale == nullptr || (l.scale_length != out && l.scale_length != 1))
    mismatch(name + ".scale must have out = " + n2s(out) + " values (or 1); received " + n2s(l.scale_length));
  if (l.zero_point == nullptr || (l.zero_point_length != out && l.zero_point_length != 1))
    mismatch(name + ".zeroPoint must have out = " + n2s(out) + " values (or 1); received " +
             n2s(l.zero_point_length));
  if (l.bias == nullptr || l.bias_length != out)
    mismatch(name + ".bias must have out = " + n2s(out) + " values; received " + n2s(l.bias_length));
  check_finite(l.scale, l.scale_length, name + ".scale");
  check_finite(l.bias, out, name + ".bias");
  for (size_t i = 0; i < l.zero_point_length; ++i)
    if (l.zero_point[i] < -128 || l.zero_point[i] > 127)
      invalid(name + ".zeroPoint must hold int8 values (-128..127); received " + std::to_string(l.zero_point[i]) +
              " at " + n2s(i));
}

LinearPart part_of(const EncoderLinearSpec& l, size_t out, float multiplier = 1.0f) {
  LinearPart p;
  p.weight = l.weight;
  p.n = out;
  p.scale = l.scale;
  p.scale_length = l.scale_length;
  p.zero_point = l.zero_point;
  p.zero_point_length = l.zero_point_length;
  p.bias = l.bias;
  p.scale_multiplier = multiplier;
  return p;
}

size_t table_value_bytes(EncoderTableType t) { return t == EncoderTableType::Float32 ? 4 : 1; }

}  // namespace

void Encoder::Table::add_row(size_t row, size_t hidden, float* out) const {
  switch (type) {
    case EncoderTableType::Float32: {
      const float* v = reinterpret_cast<const float*>(bytes.data()) + row * hidden;
      for (size_t i = 0; i < hidden; ++i) out[i] += v[i];
      break;
    }
    case EncoderTableType::Uint8: {
      const uint8_t* v = bytes.data() + row * hidden;
      for (size_t i = 0; i < hidden; ++i) out[i] += static_cast<float>(int32_t(v[i]) - zero_point) * scale;
      break;
    }
    case EncoderTableType::Int8: {
      const int8_t* v = reinterpret_cast<const int8_t*>(bytes.data()) + row * hidden;
      for (size_t i = 0; i < hidden; ++i) out[i] += static_cast<float>(int32_t(v[i]) - zero_point) * scale;
      break;
    }
  }
}

// Activations of one chunk of tokens, kept between calls for reuse.
struct Encoder::Scratch {
  size_t tokens = 0;  // capacity in tokens
  size_t ldq = 0;
  PodBuffer<float> x, h, qkv, ctx, f;
  PodBuffer<uint8_t> q;
  PodBuffer<float> qscale;
  PodBuffer<int32_t> qzp, qsum;
  std::vector<size_t> starts;      // first row of each sequence, then tokens
  std::vector<uint32_t> position;  // per token

  void reserve(size_t t, size_t hidden, size_t inter) {
    if (t <= tokens) return;
    ldq = std::max((hidden + 3) / 4 * 4, (inter + 3) / 4 * 4);
    x.resize(t * hidden);
    h.resize(t * hidden);
    qkv.resize(t * 3 * hidden);
    ctx.resize(t * hidden);
    f.resize(t * inter);
    q.resize(t * ldq);
    qscale.resize(t);
    qzp.resize(t);
    qsum.resize(t);
    position.resize(t);
    tokens = t;
  }

  size_t bytes() const {
    return (x.size() + h.size() + qkv.size() + ctx.size() + f.size() + qscale.size()) * sizeof(float) + q.size() +
           (qzp.size() + qsum.size()) * sizeof(int32_t) + position.size() * sizeof(uint32_t);
  }
};

Encoder::Encoder(const EncoderSpec& spec, size_t threads, const EncoderKernels* kernels) {
  const size_t H = spec.hidden, F = spec.intermediate;
  if (H == 0 || H > kMaxGemmK) invalid("hidden must be in 1.." + n2s(kMaxGemmK) + "; received " + n2s(H));
  if (spec.heads == 0 || spec.heads > H) invalid("heads must be in 1..hidden; received " + n2s(spec.heads));
  if (H % spec.heads != 0)
    mismatch("hidden " + n2s(H) + " must be divisible by heads " + n2s(spec.heads));
  if (F == 0 || F > kMaxGemmK) invalid("intermediate must be in 1.." + n2s(kMaxGemmK) + "; received " + n2s(F));
  if (!std::isfinite(spec.layer_norm_eps) || spec.layer_norm_eps < 0)
    invalid("layerNormEps must be a finite number >= 0; received " + std::to_string(spec.layer_norm_eps));

  auto make_table = [&](const EncoderTableSpec& t, const std::string& name, Table& out) {
    if (t.data == nullptr || t.length == 0 || t.length % H != 0)
      mismatch(name + " must have rows * hidden values (a positive multiple of " + n2s(H) + "); received " +
               n2s(t.length));
    if (t.type == EncoderTableType::Float32) {
      check_finite(static_cast<const float*>(t.data), t.length, name);
    } else {
      if (!std::isfinite(t.scale)) invalid(name + ".scale must be finite; received " + std::to_string(t.scale));
      const int lo = t.type == EncoderTableType::Uint8 ? 0 : -128, hi = t.type == EncoderTableType::Uint8 ? 255 : 127;
      if (t.zero_point < lo || t.zero_point > hi)
        invalid(name + ".zeroPoint must be in " + std::to_string(lo) + ".." + std::to_string(hi) + " for " +
                (t.type == EncoderTableType::Uint8 ? "a Uint8Array" : "an Int8Array") + "; received " +
                std::to_string(t.zero_point));
    }
    out.type = t.type;
    out.rows = t.length / H;
    out.scale = t.scale;
    out.zero_point = t.zero_point;
    out.bytes.resize(t.length * table_value_bytes(t.type));
    std::memcpy(out.bytes.data(), t.data, out.bytes.size());
  };
  make_table(spec.word, "word", word_);
  make_table(spec.position, "position", position_);
  if (spec.has_token_type) make_table(spec.token_type, "tokenType", token_type_);
  if (word_.rows > 0x7FFFFFFFu) invalid("word must have at most 2^31 - 1 rows; received " + n2s(word_.rows));
  check_norm(spec.embedding_norm, H, "embeddingNorm");

  for (size_t l = 0; l < spec.layers.size(); ++l) {
    const EncoderLayerSpec& s = spec.layers[l];
    const std::string p = "layers[" + n2s(l) + "].";
    check_linear(s.query, H, H, p + "query");
    check_linear(s.key, H, H, p + "key");
    check_linear(s.value, H, H, p + "value");
    check_linear(s.output, H, H, p + "output");
    check_norm(s.attention_norm, H, p + "attentionNorm");
    check_linear(s.intermediate, H, F, p + "intermediate");
    check_linear(s.ffn_output, F, H, p + "ffnOutput");
    check_norm(s.output_norm, H, p + "outputNorm");
  }

  hidden_ = H;
  heads_ = spec.heads;
  intermediate_ = F;
  eps_ = spec.layer_norm_eps;
  gelu_ = spec.gelu;
  embedding_gamma_.assign(spec.embedding_norm.gamma, spec.embedding_norm.gamma + H);
  embedding_beta_.assign(spec.embedding_norm.beta, spec.embedding_norm.beta + H);
  // 1 / sqrt(dh) of the attention scores folded into the query's scales.
  const float q_mult = 1.0f / std::sqrt(static_cast<float>(H / spec.heads));
  layers_.resize(spec.layers.size());
  for (size_t l = 0; l < spec.layers.size(); ++l) {
    const EncoderLayerSpec& s = spec.layers[l];
    Layer& L = layers_[l];
    L.qkv = QuantizedLinear(H, {part_of(s.query, H, q_mult), part_of(s.key, H), part_of(s.value, H)});
    L.output = QuantizedLinear(H, {part_of(s.output, H)});
    L.intermediate = QuantizedLinear(H, {part_of(s.intermediate, F)});
    L.ffn_output = QuantizedLinear(F, {part_of(s.ffn_output, H)});
    L.attention_gamma.assign(s.attention_norm.gamma, s.attention_norm.gamma + H);
    L.attention_beta.assign(s.attention_norm.beta, s.attention_norm.beta + H);
    L.output_gamma.assign(s.output_norm.gamma, s.output_norm.gamma + H);
    L.output_beta.assign(s.output_norm.beta, s.output_norm.beta + H);
  }
  kernels_ = kernels != nullptr ? kernels : &encoder_kernels();
  pool_ = std::make_unique<ThreadPool>(threads == 0 ? hardware_threads() : threads);
}

Encoder::~Encoder() = default;

size_t Encoder::memory_usage() const {
  size_t bytes = word_.bytes.size() + position_.bytes.size() + token_type_.bytes.size() +
                 (embedding_gamma_.size() + embedding_beta_.size()) * sizeof(float);
  for (const Layer& L : layers_)
    bytes += L.qkv.memory_usage() + L.output.memory_usage() + L.intermediate.memory_usage() +
             L.ffn_output.memory_usage() + 4 * hidden_ * sizeof(float);
  std::lock_guard<std::mutex> lock(scratch_mutex_);
  for (const auto& s : scratch_pool_) bytes += s->bytes();
  return bytes;
}

void Encoder::check_inputs(const int32_t* ids, const int32_t* type_ids, size_t tokens, const uint32_t* lengths,
                           size_t sequences) const {
  uint64_t total = 0;
  for (size_t i = 0; i < sequences; ++i) {
    if (lengths[i] == 0 || lengths[i] > max_positions())
      invalid("lengths[" + n2s(i) + "] must be in 1.." + n2s(max_positions()) +
              " (the rows of the position table); received " + n2s(lengths[i]));
    total += lengths[i];
  }
  if (total != tokens)
    mismatch("lengths must sum to the number of ids, " + n2s(tokens) + "; they sum to " + std::to_string(total));
  for (size_t t = 0; t < tokens; ++t)
    if (ids[t] < 0 || static_cast<size_t>(ids[t]) >= vocab())
      invalid("ids must be in 0.." + n2s(vocab() - 1) + " (the rows of the word table); received " +
              std::to_string(ids[t]) + " at " + n2s(t));
  if (type_ids != nullptr)
    for (size_t t = 0; t < tokens; ++t) {
      const size_t types = std::max<size_t>(token_types(), 1);
      if (type_ids[t] < 0 || static_cast<size_t>(type_ids[t]) >= types)
        invalid("typeIds must be in 0.." + n2s(types - 1) +
                (token_types() == 0 ? " (the model has no token-type table)" : " (the rows of the token-type table)") +
                "; received " + std::to_string(type_ids[t]) + " at " + n2s(t));
    }
}

std::unique_ptr<Encoder::Scratch> Encoder::take_scratch() const {
  {
    std::lock_guard<std::mutex> lock(scratch_mutex_);
    if (!scratch_pool_.empty()) {
      std::unique_ptr<Scratch> s = std::move(scratch_pool_.back());
      scratch_pool_.pop_back();
      return s;
    }
  }
  return std::make_unique<Scratch>();
}

void Encoder::return_scratch(std::unique_ptr<Scratch> s) const {
  std::lock_guard<std::mutex> lock(scratch_mutex_);
  scratch_pool_.push_back(std::move(s));
}

void Encoder::encode(const int32_t* ids, const int32_t* type_ids, size_t tokens, const uint32_t* lengths,
                     size_t sequences, EncoderPooling pooling, float* out) const {
  check_inputs(ids, type_ids, tokens, lengths, sequences);
  if (sequences == 0) return;
  std::unique_ptr<Scratch> s = take_scratch();
  size_t seq = 0, row = 0;
  while (seq < sequences) {
    // Whole sequences up to kChunkTokens tokens (at least one).
    size_t end = seq, chunk = 0;
    while (end < sequences && (end == seq || chunk + lengths[end] <= kChunkTokens)) chunk += lengths[end++];
    s->reserve(chunk, hidden_, intermediate_);
    encode_chunk(*s, ids + row, type_ids != nullptr ? type_ids + row : nullptr, chunk, lengths + seq, end - seq,
                 pooling, out + seq * hidden_);
    row += chunk;
    seq = end;
  }
  return_scratch(std::move(s));
}

// One GEMM over `rows` quantised rows, as tasks of column panels x row
// chunks (each element's result does not depend on the split).
void Encoder::gemm(const QuantizedLinear& lin, Scratch& s, size_t rows, const GemmOut& o) const {
  const GemmWeights w = lin.weights();
  const GemmRows a{s.q.data(), s.ldq, s.qscale.data(), s.qzp.data(), s.qsum.data()};
  const size_t row_tasks = (rows + kGemmRowTask - 1) / kGemmRowTask;
  size_t panel = std::max<size_t>(3, kGemmPanelBytes / (w.groups * 64) / 3 * 3);
  while (panel > 3 && row_tasks * ((w.blocks + panel - 1) / panel) < 8) panel -= 3;
  const size_t panels = (w.blocks + panel - 1) / panel;
  const EncoderKernels* k = kernels_;
  pool_->parallel_for(panels * row_tasks, [&](size_t task) {
    const size_t p = task / row_tasks, r = task % row_tasks;
    k->gemm(a, w, o, r * kGemmRowTask, std::min(rows, (r + 1) * kGemmRowTask), p * panel,
            std::min(w.blocks, (p + 1) * panel));
  });
}

void Encoder::encode_chunk(Scratch& s, const int32_t* ids, const int32_t* type_ids, size_t T,
                           const uint32_t* lengths, size_t sequences, EncoderPooling pooling, float* out) const {
  const size_t H = hidden_, F = intermediate_, H3 = 3 * H, dh = H / heads_;
  const EncoderKernels& K = *kernels_;
  ThreadPool& pool = *pool_;
  s.starts.resize(sequences + 1);
  s.starts[0] = 0;
  for (size_t i = 0; i < sequences; ++i) {
    s.starts[i + 1] = s.starts[i] + lengths[i];
    for (size_t p = 0; p < lengths[i]; ++p) s.position[s.starts[i] + p] = static_cast<uint32_t>(p);
  }
  float* x = s.x.data();
  float* h = s.h.data();
  float* qkv = s.qkv.data();
  float* ctx = s.ctx.data();
  float* f = s.f.data();
  const size_t row_tasks = (T + kRowTask - 1) / kRowTask;
  // Runs fn(first row, row count) over tasks of kRowTask rows.
  auto rows_parallel = [&](const std::function<void(size_t, size_t)>& fn) {
    pool.parallel_for(row_tasks, [&](size_t task) {
      const size_t r0 = task * kRowTask;
      fn(r0, std::min(T, r0 + kRowTask) - r0);
    });
  };
  auto quantize = [&](const float* in, size_t ld, size_t k, size_t r0, size_t n) {
    K.quantize_rows(in + r0 * ld, ld, n, k, s.q.data() + r0 * s.ldq, s.ldq, s.qscale.data() + r0,
                    s.qzp.data() + r0, s.qsum.data() + r0);
  };

  // Embeddings.
  rows_parallel([&](size_t r0, size_t n) {
    for (size_t t = r0; t < r0 + n; ++t) {
      float* xr = x + t * H;
      std::fill(xr, xr + H, 0.0f);
      word_.add_row(static_cast<size_t>(ids[t]), H, xr);
      position_.add_row(s.position[t], H, xr);
      if (token_type_.rows > 0) token_type_.add_row(type_ids != nullptr ? static_cast<size_t>(type_ids[t]) : 0, H, xr);
    }
    K.layer_norm_rows(x + r0 * H, H, n, H, embedding_gamma_.data(), embedding_beta_.data(), eps_, x + r0 * H, H);
    if (!layers_.empty()) quantize(x, H, H, r0, n);
  });

  const GemmEpilogue gelu = gelu_ == EncoderGelu::Erf ? GemmEpilogue::BiasGeluErf : GemmEpilogue::BiasGeluTanh;
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& L = layers_[l];
    GemmOut o;
    o.out = qkv;
    o.ldo = H3;
    gemm(L.qkv, s, T, o);

    pool.parallel_for(sequences * heads_, [&](size_t task) {
      thread_local std::vector<float> scratch;
      const size_t i = task / heads_, head = task % heads_;
      const size_t len = lengths[i], r0 = s.starts[i];
      const size_t need = attention_scratch(len, dh);
      if (scratch.size() < need) scratch.resize(need);
      const float* base = qkv + r0 * H3 + head * dh;
      K.attention(base, base + H, base + 2 * H, H3, len, dh, ctx + r0 * H + head * dh, H, scratch.data());
    });
    rows_parallel([&](size_t r0, size_t n) { quantize(ctx, H, H, r0, n); });

    o = GemmOut();
    o.epilogue = GemmEpilogue::BiasResidual;
    o.out = h;
    o.ldo = H;
    o.residual = x;
    o.ldr = H;
    gemm(L.output, s, T, o);
    rows_parallel([&](size_t r0, size_t n) {
      K.layer_norm_rows(h + r0 * H, H, n, H, L.attention_gamma.data(), L.attention_beta.data(), eps_, h + r0 * H, H);
      quantize(h, H, H, r0, n);
    });

    o = GemmOut();
    o.epilogue = gelu;
    o.out = f;
    o.ldo = F;
    gemm(L.intermediate, s, T, o);
    rows_parallel([&](size_t r0, size_t n) { quantize(f, F, F, r0, n); });

    o = GemmOut();
    o.epilogue = GemmEpilogue::BiasResidual;
    o.out = x;
    o.ldo = H;
    o.residual = h;
    o.ldr = H;
    gemm(L.ffn_output, s, T, o);
    const bool last = l + 1 == layers_.size();
    rows_parallel([&](size_t r0, size_t n) {
      K.layer_norm_rows(x + r0 * H, H, n, H, L.output_gamma.data(), L.output_beta.data(), eps_, x + r0 * H, H);
      if (!last) quantize(x, H, H, r0, n);
    });
  }

  // Pooling.
  for (size_t i = 0; i < sequences; ++i) {
    const float* rows = x + s.starts[i] * H;
    float* o = out + i * H;
    if (pooling == EncoderPooling::Cls) {
      std::memcpy(o, rows, H * sizeof(float));
      continue;
    }
    std::fill(o, o + H, 0.0f);
    for (size_t t = 0; t < lengths[i]; ++t)
      for (size_t d = 0; d < H; ++d) o[d] += rows[t * H + d];
    const float n = static_cast<float>(lengths[i]);
    for (size_t d = 0; d < H; ++d) o[d] /= n;
  }
}

}  // namespace semvec
