// The int8 encoder's forward pass against a double-precision float
// reference, its determinism across batches and threads, pooling, and the
// validation of specs and inputs.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "encoder.h"
#include "harness.h"

using namespace semvec;

namespace {

struct LinearData {
  size_t in = 0, out = 0;
  std::vector<int8_t> w;
  std::vector<float> scale, bias;
  std::vector<int32_t> zp;
  EncoderLinearSpec spec() const {
    return {w.data(), w.size(), scale.data(), scale.size(), zp.data(), zp.size(), bias.data(), bias.size()};
  }
  // Dequantised weight (k, n).
  double at(size_t k, size_t n) const {
    return (double(w[k * out + n]) - zp[zp.size() == 1 ? 0 : n]) * scale[scale.size() == 1 ? 0 : n];
  }
};

struct NormData {
  std::vector<float> gamma, beta;
  EncoderNormSpec spec() const { return {gamma.data(), gamma.size(), beta.data(), beta.size()}; }
};

// A random model; its weights are chosen so activations stay O(1).
struct Model {
  size_t hidden, heads, inter, vocab, positions, types;
  EncoderGelu gelu = EncoderGelu::Erf;
  std::vector<float> word, position, type;
  NormData embedding_norm;
  struct Layer {
    LinearData q, k, v, o, i, f;
    NormData attention_norm, output_norm;
  };
  std::vector<Layer> layers;

  EncoderSpec spec() const {
    EncoderSpec s;
    s.hidden = hidden, s.heads = heads, s.intermediate = inter, s.layer_norm_eps = 1e-12f, s.gelu = gelu;
    s.word = {EncoderTableType::Float32, word.data(), word.size(), 1.0f, 0};
    s.position = {EncoderTableType::Float32, position.data(), position.size(), 1.0f, 0};
    s.has_token_type = !type.empty();
    s.token_type = {EncoderTableType::Float32, type.data(), type.size(), 1.0f, 0};
    s.embedding_norm = embedding_norm.spec();
    for (const Layer& L : layers)
      s.layers.push_back({L.q.spec(), L.k.spec(), L.v.spec(), L.o.spec(), L.attention_norm.spec(), L.i.spec(),
                          L.f.spec(), L.output_norm.spec()});
    return s;
  }
};

LinearData random_linear(std::mt19937& rng, size_t in, size_t out, bool per_tensor, bool zero_points) {
  LinearData l;
  l.in = in, l.out = out;
  std::uniform_int_distribution<int> i8(-127, 127), zpd(-20, 20);
  std::uniform_real_distribution<float> u(0.5f, 1.5f), b(-0.1f, 0.1f);
  l.w.resize(in * out);
  for (auto& x : l.w) x = static_cast<int8_t>(i8(rng));
  const size_t nq = per_tensor ? 1 : out;
  // |w - zp| ~ 75: scale so that sum over `in` of x * W has variance ~1
  for (size_t j = 0; j < nq; ++j) l.scale.push_back(u(rng) / (75.0f * std::sqrt(float(in))));
  for (size_t j = 0; j < nq; ++j) l.zp.push_back(zero_points ? zpd(rng) : 0);
  for (size_t j = 0; j < out; ++j) l.bias.push_back(b(rng));
  return l;
}

NormData random_norm(std::mt19937& rng, size_t n) {
  std::uniform_real_distribution<float> g(0.8f, 1.2f), b(-0.2f, 0.2f);
  NormData d;
  for (size_t i = 0; i < n; ++i) d.gamma.push_back(g(rng)), d.beta.push_back(b(rng));
  return d;
}

Model random_model(uint32_t seed, size_t hidden = 64, size_t heads = 4, size_t inter = 128, size_t layers = 2) {
  std::mt19937 rng(seed);
  Model m;
  m.hidden = hidden, m.heads = heads, m.inter = inter, m.vocab = 50, m.positions = 40, m.types = 2;
  std::normal_distribution<float> g(0.0f, 1.0f);
  for (size_t i = 0; i < m.vocab * hidden; ++i) m.word.push_back(g(rng));
  for (size_t i = 0; i < m.positions * hidden; ++i) m.position.push_back(0.5f * g(rng));
  for (size_t i = 0; i < m.types * hidden; ++i) m.type.push_back(0.5f * g(rng));
  m.embedding_norm = random_norm(rng, hidden);
  for (size_t l = 0; l < layers; ++l) {
    Model::Layer L;
    L.q = random_linear(rng, hidden, hidden, false, l == 1);
    L.k = random_linear(rng, hidden, hidden, l == 0, false);
    L.v = random_linear(rng, hidden, hidden, false, true);
    L.o = random_linear(rng, hidden, hidden, false, false);
    L.i = random_linear(rng, hidden, inter, false, l == 0);
    L.f = random_linear(rng, inter, hidden, true, true);
    L.attention_norm = random_norm(rng, hidden);
    L.output_norm = random_norm(rng, hidden);
    m.layers.push_back(std::move(L));
  }
  return m;
}

using Rows = std::vector<std::vector<double>>;

void layer_norm(Rows& x, const NormData& n, double eps) {
  for (auto& r : x) {
    double mean = 0, var = 0;
    for (double v : r) mean += v;
    mean /= r.size();
    for (double v : r) var += (v - mean) * (v - mean);
    var /= r.size();
    for (size_t i = 0; i < r.size(); ++i) r[i] = (r[i] - mean) / std::sqrt(var + eps) * n.gamma[i] + n.beta[i];
  }
}

Rows linear(const Rows& x, const LinearData& l) {
  Rows y(x.size(), std::vector<double>(l.out));
  for (size_t r = 0; r < x.size(); ++r)
    for (size_t n = 0; n < l.out; ++n) {
      double s = l.bias[n];
      for (size_t k = 0; k < l.in; ++k) s += x[r][k] * l.at(k, n);
      y[r][n] = s;
    }
  return y;
}

// One sequence through the model in double precision, unquantised
// activations: its mean or first row.
std::vector<double> reference(const Model& m, const std::vector<int32_t>& ids, const std::vector<int32_t>& types,
                              EncoderPooling pooling) {
  const size_t S = ids.size(), H = m.hidden, dh = H / m.heads;
  Rows x(S, std::vector<double>(H));
  for (size_t t = 0; t < S; ++t)
    for (size_t d = 0; d < H; ++d)
      x[t][d] = double(m.word[ids[t] * H + d]) + m.position[t * H + d] + m.type[types[t] * H + d];
  layer_norm(x, m.embedding_norm, 1e-12);
  for (const Model::Layer& L : m.layers) {
    Rows q = linear(x, L.q), k = linear(x, L.k), v = linear(x, L.v);
    Rows a(S, std::vector<double>(H, 0.0));
    for (size_t h = 0; h < m.heads; ++h)
      for (size_t i = 0; i < S; ++i) {
        std::vector<double> p(S);
        double mx = -1e300, total = 0;
        for (size_t j = 0; j < S; ++j) {
          double dot = 0;
          for (size_t d = 0; d < dh; ++d) dot += q[i][h * dh + d] * k[j][h * dh + d];
          p[j] = dot / std::sqrt(double(dh));
          mx = std::max(mx, p[j]);
        }
        for (size_t j = 0; j < S; ++j) total += p[j] = std::exp(p[j] - mx);
        for (size_t j = 0; j < S; ++j)
          for (size_t d = 0; d < dh; ++d) a[i][h * dh + d] += p[j] / total * v[j][h * dh + d];
      }
    Rows hh = linear(a, L.o);
    for (size_t t = 0; t < S; ++t)
      for (size_t d = 0; d < H; ++d) hh[t][d] += x[t][d];
    layer_norm(hh, L.attention_norm, 1e-12);
    Rows f = linear(hh, L.i);
    for (auto& r : f)
      for (double& y : r)
        y = m.gelu == EncoderGelu::Erf ? 0.5 * y * (1 + std::erf(y / std::sqrt(2.0)))
                                       : 0.5 * y * (1 + std::tanh(std::sqrt(2 / M_PI) * (y + 0.044715 * y * y * y)));
    x = linear(f, L.f);
    for (size_t t = 0; t < S; ++t)
      for (size_t d = 0; d < H; ++d) x[t][d] += hh[t][d];
    layer_norm(x, L.output_norm, 1e-12);
  }
  if (pooling == EncoderPooling::Cls) return x[0];
  std::vector<double> out(H, 0.0);
  for (auto& r : x)
    for (size_t d = 0; d < H; ++d) out[d] += r[d] / S;
  return out;
}

double cosine(const float* a, const std::vector<double>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < b.size(); ++i) ab += a[i] * b[i], aa += double(a[i]) * a[i], bb += b[i] * b[i];
  return ab / std::sqrt(aa * bb);
}

struct Batch {
  std::vector<int32_t> ids, types;
  std::vector<uint32_t> lengths;
  void add(const std::vector<int32_t>& i, const std::vector<int32_t>& t) {
    ids.insert(ids.end(), i.begin(), i.end());
    types.insert(types.end(), t.begin(), t.end());
    lengths.push_back(static_cast<uint32_t>(i.size()));
  }
};

std::vector<float> run(const Encoder& e, const Batch& b, EncoderPooling pooling, bool with_types = true) {
  std::vector<float> out(b.lengths.size() * e.hidden(), -1.0f);
  e.encode(b.ids.data(), with_types ? b.types.data() : nullptr, b.ids.size(), b.lengths.data(), b.lengths.size(),
           pooling, out.data());
  return out;
}

std::vector<std::vector<int32_t>> random_sequences(uint32_t seed, size_t count, size_t max_len, int32_t vocab,
                                                   int32_t types) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> len(1, max_len);
  std::uniform_int_distribution<int32_t> id(0, vocab - 1), ty(0, types - 1);
  std::vector<std::vector<int32_t>> out;
  for (size_t i = 0; i < 2 * count; i += 2) {
    size_t n = len(rng);
    std::vector<int32_t> ids(n), t(n);
    for (auto& v : ids) v = id(rng);
    for (auto& v : t) v = ty(rng);
    out.push_back(ids);
    out.push_back(t);
  }
  return out;
}

std::vector<const EncoderKernels*> levels() {
  std::vector<const EncoderKernels*> out;
  for (auto level : {SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512})
    if (auto* k = encoder_kernels_for(level)) out.push_back(k);
  if (encoder_kernels_for(SimdLevel::Avx512) == &kAvx512VnniEncoderKernels) out.push_back(&kAvx512EncoderKernels);
  return out;
}

}  // namespace

TEST("encoder: forward pass matches a double-precision float reference (cosine >= 0.999)") {
  for (EncoderGelu gelu : {EncoderGelu::Erf, EncoderGelu::Tanh})
    for (const EncoderKernels* k : levels()) {
      Model m = random_model(21);
      m.gelu = gelu;
      Encoder e(m.spec(), 2, k);
      auto seqs = random_sequences(22, 6, 40, 50, 2);
      seqs[0].resize(1), seqs[1].resize(1);  // a one-token sequence
      Batch b;
      for (size_t i = 0; i < seqs.size(); i += 2) b.add(seqs[i], seqs[i + 1]);
      for (EncoderPooling pooling : {EncoderPooling::Mean, EncoderPooling::Cls}) {
        std::vector<float> out = run(e, b, pooling);
        for (size_t i = 0; i < b.lengths.size(); ++i) {
          double c = cosine(&out[i * m.hidden], reference(m, seqs[2 * i], seqs[2 * i + 1], pooling));
          if (!(c >= 0.999))
            harness::fail(__FILE__, __LINE__, k->name, " gelu ", int(gelu), " pooling ", int(pooling), " sequence ",
                          i, " (", b.lengths[i], " tokens): cosine ", c);
        }
      }
    }
}

TEST("encoder: forward pass of a MiniLM-shaped head layout (dh 32, hidden 384) matches the reference") {
  Model m = random_model(31, 384, 12, 1536, 1);
  Encoder e(m.spec(), 2);
  auto seqs = random_sequences(32, 3, 30, 50, 2);
  Batch b;
  for (size_t i = 0; i < seqs.size(); i += 2) b.add(seqs[i], seqs[i + 1]);
  std::vector<float> out = run(e, b, EncoderPooling::Mean);
  for (size_t i = 0; i < b.lengths.size(); ++i)
    CHECK(cosine(&out[i * 384], reference(m, seqs[2 * i], seqs[2 * i + 1], EncoderPooling::Mean)) >= 0.999);
}

TEST("encoder: a sequence's output is bit-identical alone, in any batch position and with 1 or 2 threads") {
  Model m = random_model(41);
  auto seqs = random_sequences(42, 8, 37, 50, 2);
  for (const EncoderKernels* k : levels()) {
    Encoder one(m.spec(), 1, k), two(m.spec(), 2, k);
    for (EncoderPooling pooling : {EncoderPooling::Mean, EncoderPooling::Cls}) {
      Batch alone;
      alone.add(seqs[0], seqs[1]);
      const std::vector<float> want = run(one, alone, pooling);
      CHECK(std::memcmp(run(two, alone, pooling).data(), want.data(), want.size() * sizeof(float)) == 0);
      // At positions 0, 1, 3 and last among different batch-mates.
      for (size_t at : {0, 1, 3, 7}) {
        Batch b;
        for (size_t i = 1, placed = 0; placed < 8; ++placed) {
          if (placed == at) {
            b.add(seqs[0], seqs[1]);
          } else {
            size_t j = (i + at) % 7 + 1;
            b.add(seqs[2 * j], seqs[2 * j + 1]);
            ++i;
          }
        }
        for (const Encoder* e : {&one, &two}) {
          std::vector<float> out = run(*e, b, pooling);
          if (std::memcmp(&out[at * m.hidden], want.data(), want.size() * sizeof(float)) != 0)
            harness::fail(__FILE__, __LINE__, k->name, ": differs at position ", at, " with ", e->threads(),
                          " threads");
        }
      }
    }
  }
}

TEST("encoder: more tokens than one chunk encode as their sequences alone") {
  Model m = random_model(43, 32, 2, 64, 1);
  m.positions = 400;
  m.position.resize(400 * 32, 0.25f);
  Encoder e(m.spec(), 2);
  auto seqs = random_sequences(44, 12, 400, 50, 2);  // ~2400 tokens: several chunks
  Batch all;
  for (size_t i = 0; i < seqs.size(); i += 2) all.add(seqs[i], seqs[i + 1]);
  std::vector<float> out = run(e, all, EncoderPooling::Mean);
  for (size_t i = 0; i < all.lengths.size(); ++i) {
    Batch b;
    b.add(seqs[2 * i], seqs[2 * i + 1]);
    std::vector<float> alone = run(e, b, EncoderPooling::Mean);
    CHECK(std::memcmp(&out[i * 32], alone.data(), 32 * sizeof(float)) == 0);
  }
}

TEST("encoder: cls pooling gives the first token's row, mean the average of the rows") {
  Model m = random_model(51);
  Encoder e(m.spec(), 2);
  Batch b;
  b.add({7}, {1});
  b.add({3, 9, 11, 4}, {0, 0, 1, 1});
  std::vector<float> mean = run(e, b, EncoderPooling::Mean), cls = run(e, b, EncoderPooling::Cls);
  // One token: its mean is its row.
  CHECK(std::memcmp(mean.data(), cls.data(), m.hidden * sizeof(float)) == 0);
  // Several: they differ, and each matches its reference.
  CHECK(std::memcmp(&mean[m.hidden], &cls[m.hidden], m.hidden * sizeof(float)) != 0);
  CHECK(cosine(&cls[m.hidden], reference(m, {3, 9, 11, 4}, {0, 0, 1, 1}, EncoderPooling::Cls)) >= 0.999);
  CHECK(cosine(&mean[m.hidden], reference(m, {3, 9, 11, 4}, {0, 0, 1, 1}, EncoderPooling::Mean)) >= 0.999);
  CHECK(cosine(&cls[m.hidden], reference(m, {3, 9, 11, 4}, {0, 0, 1, 1}, EncoderPooling::Mean)) < 0.999);
  // No type ids: all 0.
  Batch z;
  z.add({3, 9, 11, 4}, {0, 0, 0, 0});
  std::vector<float> with = run(e, z, EncoderPooling::Mean), without = run(e, z, EncoderPooling::Mean, false);
  CHECK(std::memcmp(with.data(), without.data(), with.size() * sizeof(float)) == 0);
}

TEST("encoder: quantised embedding tables dequantise as (q - zeroPoint) * scale") {
  Model m = random_model(61, 32, 2, 64, 1);
  // The word table as uint8 with zero point 128 and as int8 with zero point
  // -3; the float model gets exactly the dequantised values.
  std::mt19937 rng(62);
  std::uniform_int_distribution<int> u8(0, 255);
  std::vector<uint8_t> qu(m.word.size());
  std::vector<int8_t> qi(m.word.size());
  for (size_t i = 0; i < qu.size(); ++i) {
    qu[i] = static_cast<uint8_t>(u8(rng));
    qi[i] = static_cast<int8_t>(int(qu[i]) - 128);
    m.word[i] = (float(qu[i]) - 128.0f) * 0.0625f;  // exact in float
  }
  Encoder f(m.spec(), 1);
  EncoderSpec su = m.spec();
  su.word = {EncoderTableType::Uint8, qu.data(), qu.size(), 0.0625f, 128};
  Encoder u(su, 1);
  EncoderSpec si = m.spec();
  si.word = {EncoderTableType::Int8, qi.data(), qi.size(), 0.0625f, 0};
  Encoder s(si, 1);
  Batch b;
  b.add({1, 2, 3, 49}, {0, 1, 0, 1});
  std::vector<float> want = run(f, b, EncoderPooling::Mean);
  CHECK(std::memcmp(run(u, b, EncoderPooling::Mean).data(), want.data(), want.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(run(s, b, EncoderPooling::Mean).data(), want.data(), want.size() * sizeof(float)) == 0);
  si.word.zero_point = 1;
  Encoder shifted(si, 1);
  CHECK(std::memcmp(run(shifted, b, EncoderPooling::Mean).data(), want.data(), want.size() * sizeof(float)) != 0);
}

TEST("encoder: bad specs are rejected with coded errors naming what was expected") {
  Model m = random_model(71, 32, 4, 64, 2);
  auto bad = [&](auto edit, ErrorCode code, const char* needle) {
    Model c = m;
    EncoderSpec s = c.spec();
    edit(c, s);
    CHECK_THROWS_MSG(Encoder(s, 1), code, needle);
  };
  bad([](Model&, EncoderSpec& s) { s.heads = 5; }, ErrorCode::DimensionMismatch, "divisible by heads 5");
  bad([](Model&, EncoderSpec& s) { s.heads = 0; }, ErrorCode::InvalidArgument, "heads must be");
  bad([](Model&, EncoderSpec& s) { s.hidden = 0; }, ErrorCode::InvalidArgument, "hidden must be");
  bad([](Model&, EncoderSpec& s) { s.intermediate = 0; }, ErrorCode::InvalidArgument, "intermediate must be");
  bad([](Model&, EncoderSpec& s) { s.layer_norm_eps = NAN; }, ErrorCode::InvalidArgument, "layerNormEps");
  bad([](Model&, EncoderSpec& s) { s.word.length -= 1; }, ErrorCode::DimensionMismatch, "word must have rows * hidden");
  bad([](Model&, EncoderSpec& s) { s.position.length = 0; }, ErrorCode::DimensionMismatch, "position must have");
  bad([](Model&, EncoderSpec& s) { s.token_type.length = 31; }, ErrorCode::DimensionMismatch, "tokenType must have");
  bad([](Model& c, EncoderSpec& s) { c.word[5] = INFINITY; s = c.spec(); }, ErrorCode::InvalidArgument,
      "word must hold finite values");
  bad([](Model&, EncoderSpec& s) { s.word.type = EncoderTableType::Uint8; s.word.zero_point = 300; s.word.length /= 4; s.word.length -= s.word.length % 32; },
      ErrorCode::InvalidArgument, "word.zeroPoint must be in 0..255");
  bad([](Model&, EncoderSpec& s) { s.word.type = EncoderTableType::Int8; s.word.scale = NAN; s.word.length = 64; },
      ErrorCode::InvalidArgument, "word.scale must be finite");
  bad([](Model&, EncoderSpec& s) { s.embedding_norm.gamma_length = 31; }, ErrorCode::DimensionMismatch,
      "embeddingNorm.gamma must have hidden = 32 values; received 31");
  bad([](Model&, EncoderSpec& s) { s.layers[1].output_norm.beta_length = 33; }, ErrorCode::DimensionMismatch,
      "layers[1].outputNorm.beta");
  bad([](Model&, EncoderSpec& s) { s.layers[0].query.weight_length -= 1; }, ErrorCode::DimensionMismatch,
      "layers[0].query.weight must have in * out = 32 * 32 = 1024 values; received 1023");
  bad([](Model&, EncoderSpec& s) { s.layers[1].intermediate.weight_length = 32 * 32; }, ErrorCode::DimensionMismatch,
      "layers[1].intermediate.weight must have in * out = 32 * 64");
  bad([](Model&, EncoderSpec& s) { s.layers[1].ffn_output.bias_length = 64; }, ErrorCode::DimensionMismatch,
      "layers[1].ffnOutput.bias must have out = 32");
  bad([](Model&, EncoderSpec& s) { s.layers[0].key.scale_length = 2; }, ErrorCode::DimensionMismatch,
      "layers[0].key.scale must have out = 32 values (or 1); received 2");
  bad([](Model&, EncoderSpec& s) { s.layers[0].value.zero_point_length = 3; }, ErrorCode::DimensionMismatch,
      "layers[0].value.zeroPoint must have out = 32");
  bad([](Model& c, EncoderSpec& s) { c.layers[1].o.scale[3] = NAN; s = c.spec(); }, ErrorCode::InvalidArgument,
      "layers[1].output.scale must hold finite values");
  bad([](Model& c, EncoderSpec& s) { c.layers[1].o.scale[3] = INFINITY; s = c.spec(); }, ErrorCode::InvalidArgument,
      "layers[1].output.scale must hold finite values");
  bad([](Model& c, EncoderSpec& s) { c.layers[0].i.zp[0] = 128; s = c.spec(); }, ErrorCode::InvalidArgument,
      "layers[0].intermediate.zeroPoint must hold int8 values");
  bad([](Model& c, EncoderSpec& s) { c.layers[0].f.bias[1] = NAN; s = c.spec(); }, ErrorCode::InvalidArgument,
      "layers[0].ffnOutput.bias must hold finite values");
}

TEST("encoder: bad inputs are rejected and change nothing") {
  Model m = random_model(81, 32, 4, 64, 1);
  Encoder e(m.spec(), 2);
  CHECK_EQ(e.vocab(), size_t(50));
  CHECK_EQ(e.max_positions(), size_t(40));
  CHECK_EQ(e.layers(), size_t(1));
  CHECK_EQ(e.hidden(), size_t(32));
  Batch good;
  good.add({1, 2, 3}, {0, 1, 0});
  const std::vector<float> want = run(e, good, EncoderPooling::Mean);
  std::vector<float> out(64, 5.0f);
  std::vector<int32_t> ids = {1, 2, 3, 4}, types = {0, 0, 0, 0};
  std::vector<uint32_t> lengths = {2, 2};
  auto enc = [&]() { e.encode(ids.data(), types.data(), ids.size(), lengths.data(), lengths.size(), EncoderPooling::Mean, out.data()); };
  ids[2] = 50;
  CHECK_THROWS_MSG(enc(), ErrorCode::InvalidArgument, "ids must be in 0..49 (the rows of the word table); received 50 at 2");
  ids[2] = -1;
  CHECK_THROWS_MSG(enc(), ErrorCode::InvalidArgument, "received -1 at 2");
  ids[2] = 3;
  types[3] = 2;
  CHECK_THROWS_MSG(enc(), ErrorCode::InvalidArgument, "typeIds must be in 0..1");
  types[3] = 0;
  lengths = {2, 0, 2};
  CHECK_THROWS_MSG(enc(), ErrorCode::InvalidArgument, "lengths[1] must be in 1..40");
  lengths = {41};
  CHECK_THROWS_MSG(enc(), ErrorCode::InvalidArgument, "lengths[0] must be in 1..40");
  lengths = {2, 1};
  CHECK_THROWS_MSG(enc(), ErrorCode::DimensionMismatch, "lengths must sum to the number of ids, 4; they sum to 3");
  lengths = {2, 3};
  CHECK_THROWS_MSG(enc(), ErrorCode::DimensionMismatch, "they sum to 5");
  for (float v : out) CHECK_EQ(v, 5.0f);  // nothing written
  // Without a token-type table only type 0 exists.
  Model n = m;
  n.type.clear();
  Encoder nt(n.spec(), 1);
  CHECK_EQ(nt.token_types(), size_t(0));
  types[1] = 1;
  lengths = {2, 2};
  CHECK_THROWS_MSG(nt.encode(ids.data(), types.data(), 4, lengths.data(), 2, EncoderPooling::Mean, out.data()),
                   ErrorCode::InvalidArgument, "no token-type table");
  // The encoder still works after the failures.
  std::vector<float> again = run(e, good, EncoderPooling::Mean);
  CHECK(std::memcmp(again.data(), want.data(), want.size() * sizeof(float)) == 0);
}

TEST("encoder: concurrent encode calls on one encoder give the results of sequential ones") {
  Model m = random_model(91);
  Encoder e(m.spec(), 2);
  auto seqs = random_sequences(92, 12, 40, 50, 2);
  std::vector<Batch> batches(4);
  for (size_t i = 0; i < seqs.size(); i += 2) batches[(i / 2) % 4].add(seqs[i], seqs[i + 1]);
  std::vector<std::vector<float>> want;
  for (const Batch& b : batches) want.push_back(run(e, b, EncoderPooling::Mean));
  std::vector<std::vector<float>> got(batches.size());
  std::vector<std::thread> threads;
  for (int round = 0; round < 3; ++round) {
    threads.clear();
    for (size_t i = 0; i < batches.size(); ++i)
      threads.emplace_back([&, i] { got[i] = run(e, batches[i], EncoderPooling::Mean); });
    for (auto& t : threads) t.join();
    for (size_t i = 0; i < batches.size(); ++i) CHECK(got[i] == want[i]);
  }
}
