// A BERT encoder (post-LayerNorm) with int8 weights: embeddings, layers of
// self-attention and feed-forward, and pooling, computed by the kernels of
// encoder_kernels.h. The weights come from a dynamically quantised ONNX
// export (MatMulInteger's int8 B with per-column scales and zero points).
//
// Sequences arrive packed, without padding: ids (T tokens), optional type
// ids (T), and each sequence's length (summing to T); position p of a token
// is its index in its sequence.
//   x = LN(word[id] + position[p] + type[t])
//   per layer: Q, K, V = x Wq + bq, ...; A = softmax(Q_h K_h^T / sqrt(dh)) V_h
//              per sequence and head; h = LN(A Wo + bo + x);
//              x = LN(GELU(h W1 + b1) W2 + b2 + h)
//   output: per sequence, the mean of its rows or its first row (no L2
//   normalisation).
// Every linear layer quantises its input per row (per token) to uint8, so a
// sequence's output never depends on the other sequences of the call, where
// it is in the batch, or the thread count: it is bit-identical.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "buffer.h"
#include "encoder_kernels.h"
#include "quantized_linear.h"
#include "thread_pool.h"

namespace semvec {

enum class EncoderGelu { Erf, Tanh };
enum class EncoderPooling { Mean, Cls };
enum class EncoderTableType { Float32, Uint8, Int8 };

// An embedding table: rows * hidden values, row-major. Quantised tables
// dequantise as (q - zero_point) * scale.
struct EncoderTableSpec {
  EncoderTableType type = EncoderTableType::Float32;
  const void* data = nullptr;
  size_t length = 0;  // values
  float scale = 1.0f;
  int32_t zero_point = 0;
};

struct EncoderNormSpec {
  const float* gamma = nullptr;
  size_t gamma_length = 0;
  const float* beta = nullptr;
  size_t beta_length = 0;
};

// weight: in * out int8, row-major [in][out]; scale and zero point per
// column (out) or per tensor (1); bias: out.
struct EncoderLinearSpec {
  const int8_t* weight = nullptr;
  size_t weight_length = 0;
  const float* scale = nullptr;
  size_t scale_length = 0;
  const int32_t* zero_point = nullptr;
  size_t zero_point_length = 0;
  const float* bias = nullptr;
  size_t bias_length = 0;
};

struct EncoderLayerSpec {
  EncoderLinearSpec query, key, value, output;
  EncoderNormSpec attention_norm;
  EncoderLinearSpec intermediate, ffn_output;
  EncoderNormSpec output_norm;
};

struct EncoderSpec {
  size_t hidden = 0, heads = 0, intermediate = 0;
  float layer_norm_eps = 1e-12f;
  EncoderGelu gelu = EncoderGelu::Erf;
  EncoderTableSpec word, position;
  bool has_token_type = false;
  EncoderTableSpec token_type;
  EncoderNormSpec embedding_norm;
  std::vector<EncoderLayerSpec> layers;
};

class Encoder {
 public:
  // Checks every shape and value of the spec (Error InvalidArgument or
  // DimensionMismatch saying what was expected and received) and copies
  // what it needs: the spec's arrays may be freed afterwards. threads: the
  // size of the encoder's own thread pool (0: the hardware threads).
  // kernels: nullptr for the level chosen at load (tests pass one).
  explicit Encoder(const EncoderSpec& spec, size_t threads = 0, const EncoderKernels* kernels = nullptr);
  ~Encoder();
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  // Checks a call's inputs as encode() does, without encoding.
  //   ids, type_ids (nullptr: all 0): tokens each; lengths: sequences each.
  void check_inputs(const int32_t* ids, const int32_t* type_ids, size_t tokens, const uint32_t* lengths,
                    size_t sequences) const;

  // Writes sequences * hidden() floats to out. Safe to call from several
  // threads at once.
  void encode(const int32_t* ids, const int32_t* type_ids, size_t tokens, const uint32_t* lengths,
              size_t sequences, EncoderPooling pooling, float* out) const;

  size_t hidden() const { return hidden_; }
  size_t heads() const { return heads_; }
  size_t intermediate() const { return intermediate_; }
  size_t layers() const { return layers_.size(); }
  size_t vocab() const { return word_.rows; }
  size_t max_positions() const { return position_.rows; }
  size_t token_types() const { return token_type_.rows; }  // 0: no token-type table
  size_t threads() const { return pool_->threads(); }
  const EncoderKernels& kernels() const { return *kernels_; }
  // Bytes held: weights, tables and the scratch kept for reuse.
  size_t memory_usage() const;

 private:
  struct Table {
    EncoderTableType type = EncoderTableType::Float32;
    size_t rows = 0;
    PodBuffer<uint8_t> bytes;  // rows * hidden values of the type
    float scale = 1.0f;
    int32_t zero_point = 0;
    void add_row(size_t row, size_t hidden, float* out) const;  // out += row
  };
  struct Layer {
    QuantizedLinear qkv, output, intermediate, ffn_output;
    std::vector<float> attention_gamma, attention_beta, output_gamma, output_beta;
  };
  struct Scratch;

  void encode_chunk(Scratch& s, const int32_t* ids, const int32_t* type_ids, size_t tokens,
                    const uint32_t* lengths, size_t sequences, EncoderPooling pooling, float* out) const;
  void gemm(const QuantizedLinear& w, Scratch& s, size_t rows, const GemmOut& o) const;
  std::unique_ptr<Scratch> take_scratch() const;
  void return_scratch(std::unique_ptr<Scratch> s) const;

  size_t hidden_ = 0, heads_ = 0, intermediate_ = 0;
  float eps_ = 0.0f;
  EncoderGelu gelu_ = EncoderGelu::Erf;
  Table word_, position_, token_type_;
  std::vector<float> embedding_gamma_, embedding_beta_;
  std::vector<Layer> layers_;
  const EncoderKernels* kernels_ = nullptr;
  std::unique_ptr<ThreadPool> pool_;
  mutable std::mutex scratch_mutex_;
  mutable std::vector<std::unique_ptr<Scratch>> scratch_pool_;
};

}  // namespace semvec
