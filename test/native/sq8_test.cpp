// 8-bit scalar quantisation: codec ranges and error bounds, code storage.
#include <algorithm>
#include <cmath>

#include "distances.h"
#include "harness.h"
#include "sq8.h"
#include "util.h"

using namespace semvec;

namespace {
// Component c of `slot` in a CodeStore's blocks.
uint8_t code_at(const CodeStore& s, size_t groups, size_t slot, size_t c) {
  return s.data()[(slot / kBlock) * groups * 64 + (c / 4) * 64 + (slot % kBlock) * 4 + c % 4];
}
}  // namespace

TEST("sq8: codes decode to within half a step, and scores estimate inner products") {
  const size_t d = 37, n = 500;
  auto x = testutil::random_vectors(n, d, 5);
  for (size_t i = 0; i < n; ++i) x[i * d + 4] = 0.25f;  // a constant component
  Sq8Codec codec(d);
  codec.train(x.data(), n, false);
  CHECK(codec.step()[4] > 0.0f);
  CodeStore store(codec.block_bytes());
  store.reserve(n);
  store.append(codec, x.data(), n);
  CHECK_EQ(store.size(), n);
  for (size_t i = 0; i < n; ++i)
    for (size_t c = 0; c < d; ++c) {
      const float decoded = codec.vmin()[c] + codec.step()[c] * code_at(store, codec.groups(), i, c);
      CHECK(std::abs(decoded - x[i * d + c]) <= 0.5f * codec.step()[c] * 1.001f);
    }
  auto q = testutil::random_vectors(1, d, 6);
  Sq8Codec::Query coded;
  codec.prepare(q.data(), coded);
  CHECK_EQ(coded.w.size(), codec.groups() * 4);
  for (size_t c = d; c < coded.w.size(); ++c) CHECK_EQ(int(coded.w[c]), 0);
  std::vector<int32_t> dots((n + kBlock - 1) / kBlock * kBlock);
  kernels().sq8_dots(coded.w.data(), store.data(), dots.size() / kBlock, codec.groups(), dots.data());
  double worst = 0;
  for (size_t i = 0; i < n; ++i) {
    double exact = 0;
    for (size_t c = 0; c < d; ++c) exact += double(q[c]) * x[i * d + c];
    worst = std::max(worst, std::abs(coded.score(dots[i]) - exact));
  }
  // Components are N(0, 1), ranges ~[-3.5, 3.5]: steps ~0.03, errors add up
  // like a random walk over 37 components.
  CHECK(worst < 0.5);
}

TEST("sq8: values outside the trained range clamp, and normalised training sees unit rows") {
  const size_t d = 4;
  std::vector<float> x = {3, 0, 0, 4, -3, 0, 0, -4};
  Sq8Codec unit(d);
  unit.train(x.data(), 2, true);
  CHECK_NEAR(unit.vmin()[0], -0.6, 1e-6);
  CHECK_NEAR(unit.vmin()[3] + 255 * unit.step()[3], 0.8, 1e-6);
  CodeStore store(unit.block_bytes());
  std::vector<float> far = {100, -100, 0, 0};
  store.reserve(1);
  store.append(unit, far.data(), 1);
  CHECK_EQ(int(code_at(store, unit.groups(), 0, 0)), 255);
  CHECK_EQ(int(code_at(store, unit.groups(), 0, 1)), 0);
}

TEST("sq8: removing a slot moves the last code into it and clears the old lane") {
  const size_t d = 6, n = 20;
  auto x = testutil::random_vectors(n, d, 9);
  Sq8Codec codec(d);
  codec.train(x.data(), n, false);
  CodeStore store(codec.block_bytes());
  store.reserve(n);
  store.append(codec, x.data(), n);
  std::vector<uint8_t> last(d);
  for (size_t c = 0; c < d; ++c) last[c] = code_at(store, codec.groups(), n - 1, c);
  store.remove_slot(3);
  CHECK_EQ(store.size(), n - 1);
  for (size_t c = 0; c < d; ++c) CHECK_EQ(code_at(store, codec.groups(), 3, c), last[c]);
  for (size_t c = 0; c < d; ++c) CHECK_EQ(int(code_at(store, codec.groups(), n - 1, c)), 0);
  store.remove_slot(store.size() - 1);
  CHECK_EQ(store.size(), n - 2);
}
