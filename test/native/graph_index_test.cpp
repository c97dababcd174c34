// The graph index: recall against the exact index, filtered search on both
// of its strategies, removal and repair, determinism across thread counts,
// persistence (load, fromBuffer, open by mapping) and its checks.
#include <algorithm>
#include <cmath>
#include <set>

#include "file_util.h"
#include "flat_index.h"
#include "graph_build.h"
#include "graph_codes.h"
#include "graph_filter.h"
#include "graph_index.h"
#include "graph_layers.h"
#include "graph_partition.h"
#include "graph_prune.h"
#include "graph_search.h"
#include "harness.h"
#include "thread_pool.h"
#include "util.h"

using namespace semvec;
using testutil::bytes_of;

namespace {

const Metric kMetrics[] = {Metric::InnerProduct, Metric::Cosine, Metric::L2};

// n points around `clusters` centres (d dims), point i in cluster
// i * step % clusters: clustered, as real data is.
std::vector<float> clustered(size_t n, size_t d, uint32_t seed, size_t clusters = 40, float spread = 0.4f,
                             size_t step = 7) {
  auto centres = testutil::random_vectors(clusters, d, seed);
  auto noise = testutil::random_vectors(n, d, seed + 1);
  std::vector<float> x(n * d);
  for (size_t i = 0; i < n; ++i)
    for (size_t c = 0; c < d; ++c)
      x[i * d + c] = centres[(i * step % clusters) * d + c] + spread * noise[i * d + c];
  return x;
}

// Results of query q (counts may be empty: k each).
size_t found(const SearchResults& r, size_t q) { return r.counts.empty() ? r.k : r.counts[q]; }

// Mean share of the exact top k found.
double recall(const SearchResults& got, const SearchResults& want) {
  double hit = 0;
  size_t total = 0;
  for (size_t q = 0; q < want.nq; ++q) {
    std::set<uint64_t> truth;
    for (size_t j = 0; j < found(want, q); ++j) truth.insert(want.ids[q * want.k + j]);
    for (size_t j = 0; j < found(got, q); ++j) hit += truth.count(got.ids[q * got.k + j]);
    total += truth.size();
  }
  return total ? hit / total : 1.0;
}

bool same(const SearchResults& a, const SearchResults& b) {
  return a.nq == b.nq && a.k == b.k && a.ids == b.ids && a.scores == b.scores && a.counts == b.counts;
}

struct Pair {
  std::unique_ptr<GraphIndex> graph;
  std::unique_ptr<FlatIndex> flat;
};

Pair build(Metric m, size_t n, size_t d, uint32_t seed) {
  Pair p{std::make_unique<GraphIndex>(d, m), std::make_unique<FlatIndex>(d, m)};
  auto x = clustered(n, d, seed);
  p.graph->add(x.data(), n, nullptr);
  p.flat->add(x.data(), n, nullptr);
  return p;
}

}  // namespace

TEST("graph: recall@10 against the exact index is high for every metric, and higher ef does not lower it") {
  const size_t n = 4000, d = 24, nq = 100, k = 10;
  for (Metric m : kMetrics) {
    Pair p = build(m, n, d, 11);
    auto q = clustered(nq, d, 99);
    const SearchResults exact = p.flat->search(q.data(), nq, k);
    GraphSearchParams narrow, wide;
    narrow.ef = 16;
    wide.ef = 128;
    const double r16 = recall(p.graph->search(q.data(), nq, k, narrow), exact);
    const double r128 = recall(p.graph->search(q.data(), nq, k, wide), exact);
    CHECK(r128 >= 0.97);
    CHECK(r128 >= r16);
    CHECK_EQ(p.graph->size(), n);
  }
}

TEST("graph: results are scored exactly, in the convention of the flat index") {
  const size_t n = 500, d = 16;
  for (Metric m : kMetrics) {
    Pair p = build(m, n, d, 3);
    auto q = clustered(1, d, 5);
    const SearchResults g = p.graph->search(q.data(), 1, 5);
    const SearchResults f = p.flat->search(q.data(), 1, 5);
    CHECK_EQ(g.ids[0], f.ids[0]);
    CHECK(std::fabs(g.scores[0] - f.scores[0]) <= 1e-4f * (1.0f + std::fabs(f.scores[0])));
  }
}

TEST("graph: upper layers route a narrow walk to the query's cluster among many separated ones") {
  // 400 flat clusters far apart (points on a plane through each centre),
  // as embeddings of many unrelated topics are: few links join two
  // clusters, and a walk from one fixed entry crosses many to reach the
  // query's: recall@10 at ef 10 was 0.9125 from the medoid, before the
  // graph had layers, and is 0.9765 with them (the build is deterministic).
  const size_t clusters = 400, per = 60, n = clusters * per, d = 32, nq = 200, k = 10;
  auto centres = testutil::random_vectors(clusters, d, 91);
  auto planes = testutil::random_vectors(2 * clusters, d, 93);
  auto noise = testutil::random_vectors(n + nq, d, 92);
  auto coords = testutil::random_vectors(n + nq, 2, 94);
  std::vector<float> x(n * d), q(nq * d);
  for (size_t i = 0; i < n + nq; ++i) {
    const size_t c = i < n ? i % clusters : (i * 37) % clusters;
    float* row = i < n ? x.data() + i * d : q.data() + (i - n) * d;
    for (size_t j = 0; j < d; ++j)
      row[j] = 4.0f * centres[c * d + j] + coords[2 * i] * planes[2 * c * d + j] +
               coords[2 * i + 1] * planes[(2 * c + 1) * d + j] + 0.05f * noise[i * d + j];
  }
  GraphIndex graph(d, Metric::L2);
  FlatIndex flat(d, Metric::L2);
  graph.add(x.data(), n, nullptr);
  flat.add(x.data(), n, nullptr);
  GraphSearchParams narrow;
  narrow.ef = 10;
  const double r = recall(graph.search(q.data(), nq, k, narrow), flat.search(q.data(), nq, k));
  CHECK(r >= 0.95);
}

TEST("graph: a slot's level is 1 or more with probability 1 / links, 2 or more with 1 / links^2, fixed by id and seed") {
  const size_t links = GraphLayers::links_for(32), n = 200000;
  CHECK_EQ(links, 16u);
  size_t one = 0, two = 0, moved = 0;
  for (uint64_t id = 0; id < n; ++id) {
    const size_t level = GraphLayers::level(id, 1234, links);
    one += level >= 1;
    two += level >= 2;
    moved += level != GraphLayers::level(id, 1235, links);
    CHECK_EQ(level, GraphLayers::level(id, 1234, links));
  }
  // Expected 12,500 and 781; bounds at about 5 standard deviations.
  CHECK(one > 11950 && one < 13050);
  CHECK(two > 640 && two < 925);
  CHECK(moved > 0);
}

namespace {

// n points in 60 tight clusters (d dims): the data anchors are made for.
std::vector<float> tight(size_t n, size_t d, uint32_t seed) { return clustered(n, d, seed, 60, 0.05f, 13); }

// How far estimates misorder the rows of a query's own cluster: the
// standard deviation of estimate - exact inner product over them, averaged
// over queries (an error common to all of them reorders nothing). Query i
// is row i, of cluster i * 13 % 60.
double estimate_spread(const GraphStore& g, size_t nq) {
  GraphProbe probe;
  std::vector<const uint8_t*> rows;
  std::vector<uint32_t> slots;
  std::vector<float> est;
  double spread = 0;
  for (size_t i = 0; i < nq; ++i) {
    const float* qi = g.vector(i);
    rows.clear();
    slots.clear();
    for (size_t s = 0; s < g.size(); ++s)
      if (s * 13 % 60 == i * 13 % 60) {
        rows.push_back(g.code(s));
        slots.push_back(static_cast<uint32_t>(s));
      }
    est.resize(rows.size());
    probe.prepare(qi, g);
    probe.score(rows.data(), rows.size(), est.data());
    double sum = 0, sq = 0;
    for (size_t j = 0; j < slots.size(); ++j) {
      double exact = 0;
      for (size_t c = 0; c < g.dim(); ++c) exact += double(qi[c]) * g.vector(slots[j])[c];
      const double e = est[j] - exact;
      sum += e;
      sq += e * e;
    }
    const double mean = sum / double(slots.size());
    spread += std::sqrt(std::max(0.0, sq / double(slots.size()) - mean * mean));
  }
  return spread / double(nq);
}

}  // namespace

TEST("graph codes: in tight clusters rows are residuals from layer-2 anchors (which have none), estimating scores closer") {
  const size_t n = 20000, d = 32, degree = 16;
  auto x = tight(n, d, 5);
  std::vector<uint64_t> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = i;
  GraphStore g(d, degree, false), plain(d, degree, false);
  for (GraphStore* s : {&g, &plain}) {
    s->reserve(n);
    s->append(x.data(), n, ids.data(), false, nullptr);
  }
  GraphEntry entry;
  entry.layers = GraphLayers(GraphLayers::links_for(degree));
  PruneDistances dist;
  GraphBuildParams bp;
  bp.build_ef = 64;
  bp.seed = 7;
  link_new_slots(g, 0, n, bp, entry, dist, ThreadPool::global());
  size_t anchored = 0;
  for (size_t s = 0; s < n; ++s) {
    const uint32_t a = g.anchor(s);
    if (a == kNoAnchor) continue;
    ++anchored;
    CHECK(a < n);
    CHECK_EQ(g.anchor(a), kNoAnchor);
    CHECK(GraphLayers::anchors(GraphLayers::level(g.id(a), bp.seed, entry.layers.links())));
  }
  CHECK(anchored > n * 2 / 3);
  CHECK_EQ(plain.anchor(0), kNoAnchor);
  // The same vectors, coded with anchors and without.
  const double with = estimate_spread(g, 40), without = estimate_spread(plain, 40);
  CHECK(with < 0.6 * without);  // measured: 0.0106 against 0.0230

  // Compaction: rows anchored to a dropped slot are coded again without
  // one; the rest name their anchor's new slot (the same vector).
  std::vector<uint8_t> keep(n, 1);
  for (size_t s = 3; s < n; s += 7) keep[s] = 0;  // 7: prime to the 60 clusters
  std::vector<uint32_t> before(n);
  std::vector<std::vector<float>> anchor_vec(n);
  for (size_t s = 0; s < n; ++s) {
    before[s] = g.anchor(s);
    if (before[s] != kNoAnchor) anchor_vec[s].assign(g.vector(before[s]), g.vector(before[s]) + d);
  }
  const std::vector<uint32_t> moved = g.compact(keep);
  size_t remapped = 0, recoded = 0;
  for (size_t s = 0; s < n; ++s) {
    if (!keep[s] || before[s] == kNoAnchor) continue;
    const uint32_t now = g.anchor(moved[s]);
    if (!keep[before[s]]) {
      CHECK_EQ(now, kNoAnchor);
      ++recoded;
    } else {
      CHECK_EQ(now, moved[before[s]]);
      CHECK(std::equal(anchor_vec[s].begin(), anchor_vec[s].end(), g.vector(now)));
      ++remapped;
    }
  }
  CHECK(remapped > 0 && recoded > 0);
}

TEST("graph: layers naming a slot or member outside the graph are refused even without verify") {
  const size_t n = 400, d = 8;
  Pair p = build(Metric::L2, n, d, 63);
  const auto good = bytes_of(*p.graph);
  const uint64_t at = testutil::section_at(good, SectionTag::GraphLayers);
  CHECK(at > 0);
  const uint32_t count = testutil::get<uint32_t>(good, at);
  CHECK(count >= 1);
  const uint32_t members = testutil::get<uint32_t>(good, at + 4);
  CHECK(members > 10 && members < n / 4);
  const uint64_t slots = at + 4 * (1 + count), down = slots + 4 * members, links = down + 4 * members;
  const std::pair<uint64_t, uint32_t> damage[] = {
      {slots + 4, uint32_t(n)},         // a member's slot past the graph
      {down + 4, uint32_t(n - 1)},      // layer 1's place below is not its slot
      {links, uint32_t(members)},       // a link past the layer's members
      {at, uint32_t(17)},               // more layers than any graph has
      {at + 4, uint32_t(members + 1)},  // sizes that do not add up to the section
  };
  for (const auto& [offset, value] : damage) {
    auto bad = good;
    testutil::put<uint32_t>(bad, offset, value);
    testutil::reseal(bad);
    CHECK_THROWS_CODE(GraphIndex::open_image(FileMapping::borrow(bad.data(), bad.size()), false), ErrorCode::CorruptFile);
    CHECK_THROWS_CODE(GraphIndex::deserialize(bad.data(), bad.size()), ErrorCode::CorruptFile);
  }
}

TEST("graph: the build does not depend on the number of threads") {
  const size_t n = 3000, d = 16;
  auto x = clustered(n, d, 21);
  ThreadPool& pool = ThreadPool::global();
  const size_t before = pool.threads();
  pool.set_threads(1);
  GraphIndex one(d, Metric::L2);
  one.add(x.data(), n, nullptr);
  pool.set_threads(3);
  GraphIndex three(d, Metric::L2);
  three.add(x.data(), n, nullptr);
  pool.set_threads(before);
  CHECK(bytes_of(one) == bytes_of(three));
}

TEST("graph walk: without a filter the one-pool walk gives the two-heap walk's hits, scores and hops; tombstones switch it") {
  const size_t n = 6000, d = 24;
  auto x = clustered(n, d, 31);
  std::vector<uint64_t> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = i;
  GraphStore g(d, 12, false);
  g.reserve(n);
  g.append(x.data(), n, ids.data(), false, nullptr);
  GraphEntry entry;
  entry.layers = GraphLayers(GraphLayers::links_for(12));
  PruneDistances dist;
  GraphBuildParams bp;
  bp.build_ef = 48;
  bp.seed = 5;
  link_new_slots(g, 0, n, bp, entry, dist, ThreadPool::global());
  CHECK(g.tombstone_flags() == nullptr);
  const std::vector<uint8_t> all(n, 1);
  SlotFilter every;
  every.allowed = all.data();  // passes every slot, but takes the heap walk
  auto q = testutil::random_vectors(40, d, 77);
  GraphScratch s;
  std::vector<GraphHit> pool_hits, heap_hits;
  size_t differ = 0;
  for (size_t ef : {1, 10, 64, 300}) {
    for (size_t i = 0; i < 40; ++i) {
      s.probe.prepare(q.data() + i * d, g);
      size_t pool_scored = 0, heap_scored = 0;
      beam_search(g, entry.slots.data(), entry.slots.size(), ef, SlotFilter{}, s, pool_hits, &pool_scored);
      beam_search(g, entry.slots.data(), entry.slots.size(), ef, every, s, heap_hits, &heap_scored);
      CHECK_EQ(pool_hits.size(), std::min(ef, n));
      CHECK_EQ(pool_hits.size(), heap_hits.size());
      CHECK_EQ(pool_scored, heap_scored);
      for (size_t j = 0; j < pool_hits.size(); ++j) {
        CHECK_EQ(pool_hits[j].slot, heap_hits[j].slot);
        CHECK_EQ(pool_hits[j].score, heap_hits[j].score);
        if (j > 0) CHECK(pool_hits[j - 1].score >= pool_hits[j].score);
      }
      // From another start the walk differs: the comparison has teeth.
      const uint32_t other = static_cast<uint32_t>((i * 613) % n);
      beam_search(g, &other, 1, ef, SlotFilter{}, s, heap_hits);
      differ += heap_hits.empty() || heap_hits.back().slot != pool_hits.back().slot;
    }
  }
  CHECK(differ > 0);
  // A tombstone makes the walks read the flags; undoing it does not.
  g.set_deleted(17, true);
  CHECK(g.tombstone_flags() == g.deleted_flags());
  g.set_deleted(17, true);
  g.set_deleted(17, false);
  CHECK(g.tombstone_flags() == nullptr);
  g.set_deleted(3, true);
  std::vector<uint8_t> keep(n, 1);
  keep[3] = 0;
  g.compact(keep);
  CHECK(g.tombstone_flags() == nullptr);
}

TEST("graph: the running sum of a large batch is the same on the pool as on one thread, and subtracts back") {
  const size_t n = 5000, d = 200;  // d: three full ranges of components and a part
  auto x = testutil::random_vectors(n, d, 41);
  std::vector<uint64_t> ids(n);
  std::vector<uint32_t> slots(n);
  for (size_t i = 0; i < n; ++i) ids[i] = i;
  for (size_t i = 0; i < n; ++i) slots[i] = static_cast<uint32_t>((i * 7919) % n);
  GraphStore g(d, 8, false);
  g.reserve(n);
  g.append(x.data(), n, ids.data(), false, nullptr);
  GraphEntry serial, pooled;
  add_to_sum(g, slots.data(), n, 1, serial);
  add_to_sum(g, slots.data(), n, 1, pooled, &ThreadPool::global());
  CHECK_EQ(pooled.live, n);
  CHECK(serial.sum == pooled.sum);
  double want = 0;  // component 150, in slot order, as each range adds it
  for (size_t i = 0; i < n; ++i) want += x[slots[i] * d + 150];
  CHECK_EQ(pooled.sum[150], want);
  add_to_sum(g, slots.data(), n, -1, pooled, &ThreadPool::global());
  CHECK_EQ(pooled.live, size_t{0});
  for (size_t c = 0; c < d; ++c) CHECK(std::abs(pooled.sum[c]) < 1e-9);
}

TEST("graph layers: a batch inserted on all threads gives the layers of one thread, differs from one by one, and routes members to themselves as well") {
  const size_t n = 4000, d = 16, links = 4;
  auto x = clustered(n, d, 23);
  std::vector<uint64_t> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = i;
  GraphStore g(d, 2 * links, true);
  g.reserve(n);
  g.append(x.data(), n, ids.data(), false, nullptr);
  PruneDistances dist;
  dist.update(g, nullptr);
  std::vector<size_t> levels(n);
  for (size_t i = 0; i < n; ++i) levels[i] = GraphLayers::level(i, 5, links);
  ThreadPool& pool = ThreadPool::global();
  const size_t before = pool.threads();
  // The first 400 one by one, then batches of 200.
  auto build = [&](size_t threads, bool batched) {
    pool.set_threads(threads);
    GraphLayers layers(links);
    for (size_t i = 0; i < n;) {
      const size_t size = !batched || i < 400 ? 1 : std::min<size_t>(200, n - i);
      std::vector<uint32_t> slots(size);
      for (size_t j = 0; j < size; ++j) slots[j] = static_cast<uint32_t>(i + j);
      layers.insert_batch(g, dist, slots.data(), levels.data() + i, size, 32, 1.0f, pool);
      i += size;
    }
    std::vector<uint32_t> words(layers.word_count());
    layers.to_words(words.data());
    return std::make_pair(std::move(layers), words);
  };
  auto [one, words1] = build(1, true);
  auto [three, words3] = build(3, true);
  auto [serial, words_serial] = build(3, false);
  pool.set_threads(before);
  CHECK(words1 == words3);
  CHECK(words1 != words_serial);  // the batches did run together
  CHECK(one.count() >= 2 && one.layer(0).slots.size() > 500);
  // Members of layer 1 whose route finds themselves.
  auto found = [&](const GraphLayers& layers) {
    GraphScratch s;
    std::vector<uint32_t> entries;
    size_t hits = 0;
    for (uint32_t slot : layers.layer(0).slots) {
      s.probe.prepare(g.vector(slot), g);
      layers.route(g, s, entries);
      hits += std::find(entries.begin(), entries.end(), slot) != entries.end();
    }
    return hits;
  };
  // As many as one by one (at 4 links a member some routes end in another
  // cluster either way: 947 and 929 of 1,015 when written).
  const size_t batched = found(one), alone = found(serial);
  CHECK(batched * 100 >= alone * 98);
  CHECK(batched * 10 >= one.layer(0).slots.size() * 9);
}

TEST("graph partition: every slot joins its nearest group (codes shortlist, floats decide), anchored rows included") {
  const size_t n = 20000, d = 32;
  auto x = clustered(n, d, 41, 60, 0.5f);
  std::vector<uint64_t> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = i;
  for (Metric m : kMetrics) {
    const bool l2 = m == Metric::L2;
    GraphStore g(d, 32, l2);
    g.reserve(n);
    g.append(x.data(), n, ids.data(), m == Metric::Cosine, nullptr);
    GraphEntry entry{GraphLayers(GraphLayers::links_for(32)), {}, {}, 0};
    PruneDistances dist;
    link_new_slots(g, 0, n, GraphBuildParams{64, 1.0f, 7}, entry, dist, ThreadPool::global());
    size_t anchored = 0;
    for (size_t s = 0; s < n; ++s) anchored += g.anchor(s) != kNoAnchor;
    CHECK(anchored > n / 4 && anchored < n);  // both kinds of rows (6,723 anchored for ip when written)
    GraphPartition part(g, m, 7);
    const size_t groups = part.groups();
    CHECK(groups == 78);
    std::vector<uint32_t> group(n);
    part.groups_of(n, group.data());
    const std::vector<float>& c = part.centroids();
    // The exact score of a slot against a group, in double.
    auto score = [&](size_t s, size_t j) {
      double ip = 0, sq = 0;
      for (size_t i = 0; i < d; ++i) {
        ip += double(g.vector(s)[i]) * c[j * d + i];
        sq += double(c[j * d + i]) * c[j * d + i];
      }
      return l2 ? 2 * ip - sq : ip;
    };
    size_t off = 0;
    for (size_t s = 0; s < n; ++s) {
      double best = -INFINITY;
      for (size_t j = 0; j < groups; ++j) best = std::max(best, score(s, j));
      // Only a float rounding from the best.
      off += score(s, group[s]) < best - 1e-5 * (1 + std::abs(best));
    }
    CHECK(off == 0);
  }
}

TEST("graph: an allow-list returns only allowed ids, scanned when narrow and walked when wide, near the exact filtered result") {
  const size_t n = 20000, d = 16, nq = 40, k = 10;
  Pair p = build(Metric::Cosine, n, d, 31);
  auto q = clustered(nq, d, 77);
  for (size_t every : {100, 2}) {  // 1% (a scan) and 50% (a walk)
    std::vector<uint64_t> allow;
    for (uint64_t id = 0; id < n; id += every) allow.push_back(id);
    allow.push_back(n + 5);  // not in the index: ignored
    CHECK_EQ(graph_scan_allowed(allow.size() - 1, n, 64, kGraphScanFactor), every == 100);
    GraphSearchParams gp;
    gp.allow = allow.data();
    gp.n_allow = allow.size();
    const SearchResults g = p.graph->search(q.data(), nq, k, gp);
    const SearchResults f = p.flat->search(q.data(), nq, k, allow.data(), allow.size());
    for (size_t i = 0; i < nq; ++i) {
      CHECK_EQ(found(g, i), k);
      for (size_t j = 0; j < found(g, i); ++j) CHECK_EQ(g.ids[i * g.k + j] % every, 0u);
    }
    CHECK(recall(g, f) >= 0.9);
  }
  // An allow-list of ids the index does not hold finds nothing.
  uint64_t none = n + 100;
  GraphSearchParams gp;
  gp.allow = &none;
  gp.n_allow = 1;
  CHECK_EQ(p.graph->search(q.data(), 1, k, gp).k, 0u);
}

TEST("graph: removed ids are never returned; past the repair threshold the graph is compacted and keeps its recall") {
  const size_t n = 3000, d = 16, nq = 50, k = 10;
  Pair p = build(Metric::L2, n, d, 41);
  auto q = clustered(nq, d, 43);
  std::vector<uint64_t> gone;
  for (uint64_t id = 0; id < n; id += 50) gone.push_back(id);  // 2%: tombstones only
  p.graph->remove(gone.data(), gone.size());
  p.flat->remove(gone.data(), gone.size());
  CHECK_EQ(p.graph->slots(), n);
  CHECK_EQ(p.graph->size(), n - gone.size());
  CHECK(!p.graph->contains(0));
  GraphSearchParams gp;
  gp.ef = 128;
  SearchResults g = p.graph->search(q.data(), nq, k, gp);
  for (uint64_t id : g.ids) CHECK(id % 50 != 0);
  CHECK(recall(g, p.flat->search(q.data(), nq, k)) >= 0.95);
  std::vector<uint64_t> more;
  for (uint64_t id = 1; id < n; id += 8) more.push_back(id);  // 12.5% more: repair
  p.graph->remove(more.data(), more.size());
  p.flat->remove(more.data(), more.size());
  CHECK_EQ(p.graph->slots(), p.graph->size());
  CHECK_EQ(p.graph->size(), p.flat->size());
  g = p.graph->search(q.data(), nq, k, gp);
  for (uint64_t id : g.ids) CHECK(p.graph->contains(id));
  CHECK(recall(g, p.flat->search(q.data(), nq, k)) >= 0.95);
  // Adding after a repair works, and an absent id removes nothing.
  auto x = clustered(10, d, 45);
  p.graph->add(x.data(), 10, nullptr);
  CHECK_EQ(p.graph->next_id(), n + 10);
  uint64_t bad[2] = {n + 1, 0};
  const size_t size = p.graph->size();
  CHECK_THROWS_CODE(p.graph->remove(bad, 2), ErrorCode::NotFound);
  CHECK_EQ(p.graph->size(), size);
}

TEST("graph: bad parameters and inputs are InvalidArgument and change nothing") {
  CHECK_THROWS_CODE(GraphIndex(8, Metric::L2, GraphParams{2}), ErrorCode::InvalidArgument);
  GraphParams p;
  p.alpha = 3.0f;
  CHECK_THROWS_CODE(GraphIndex(8, Metric::L2, p), ErrorCode::InvalidArgument);
  GraphIndex ix(4, Metric::L2);
  float x[8] = {1, 2, 3, 4, 5, 6, 7, NAN};
  CHECK_THROWS_CODE(ix.add(x, 2, nullptr), ErrorCode::InvalidArgument);
  CHECK_EQ(ix.size(), 0u);
  x[7] = 8;
  ix.add(x, 2, nullptr);
  CHECK_THROWS_CODE(ix.search(x, 1, 0), ErrorCode::InvalidArgument);
  GraphSearchParams gp;
  gp.ef = 0;
  CHECK_THROWS_CODE(ix.search(x, 1, 1, gp), ErrorCode::InvalidArgument);
  uint64_t dup[2] = {7, 7};
  CHECK_THROWS_CODE(ix.add(x, 2, dup), ErrorCode::DuplicateId);
  CHECK_EQ(ix.size(), 2u);
}

TEST("graph: save, load, deserialize and open (verified or not) search exactly as the original, tombstones included") {
  const size_t n = 1500, d = 12, nq = 20;
  for (Metric m : kMetrics) {
    Pair p = build(m, n, d, 51);
    std::vector<uint64_t> gone = {3, 9, 27};
    p.graph->remove(gone.data(), gone.size());
    auto q = clustered(nq, d, 53);
    const SearchResults want = p.graph->search(q.data(), nq, 10);
    const std::string path = testutil::temp_path("graph.svx");
    p.graph->save(path);
    auto loaded = GraphIndex::load(path);
    const auto bytes = bytes_of(*p.graph);
    auto from = GraphIndex::deserialize(bytes.data(), bytes.size());
    auto mapped = GraphIndex::open(path, true);
    auto quick = GraphIndex::open(path, false);
    for (GraphIndex* ix : {loaded.get(), from.get(), mapped.get(), quick.get()}) {
      CHECK(same(ix->search(q.data(), nq, 10), want));
      CHECK_EQ(ix->size(), n - 3);
      CHECK_EQ(ix->next_id(), uint64_t(n));
      CHECK(!ix->contains(9));
    }
    CHECK(bytes_of(*loaded) == bytes);
    CHECK(bytes_of(*mapped) == bytes);
    CHECK(mapped->read_only());
    CHECK_EQ(mapped->mapped_bytes(), bytes.size());
    CHECK_THROWS_CODE(mapped->add(q.data(), 1, nullptr), ErrorCode::ReadOnly);
    CHECK_THROWS_CODE(mapped->remove(gone.data(), 1), ErrorCode::ReadOnly);
    // A loaded copy changes as any index does.
    loaded->add(q.data(), 1, nullptr);
    CHECK_EQ(loaded->size(), n - 2);
    std::remove(path.c_str());
  }
}

TEST("graph: a link or entry outside the slots is refused even without verify; bit flips are refused with verify") {
  const size_t n = 300, d = 8;
  Pair p = build(Metric::L2, n, d, 61);
  const auto good = bytes_of(*p.graph);
  const uint64_t links = testutil::section_at(good, SectionTag::GraphLinks);
  CHECK(links > 0);
  auto bad = good;
  testutil::put<uint32_t>(bad, links + 4 * 5, uint32_t(n + 7));
  testutil::reseal(bad);
  CHECK_THROWS_CODE(GraphIndex::open_image(FileMapping::borrow(bad.data(), bad.size()), false), ErrorCode::CorruptFile);
  CHECK_THROWS_CODE(GraphIndex::deserialize(bad.data(), bad.size()), ErrorCode::CorruptFile);
  const uint64_t entries = testutil::section_at(good, SectionTag::GraphEntries);
  bad = good;
  testutil::put<uint32_t>(bad, entries, uint32_t(n));
  testutil::reseal(bad);
  CHECK_THROWS_CODE(GraphIndex::open_image(FileMapping::borrow(bad.data(), bad.size()), false), ErrorCode::CorruptFile);
  for (size_t at = 0; at < good.size(); at += 37) {
    bad = good;
    bad[at] ^= 0x10;
    CHECK_THROWS_CODE(GraphIndex::deserialize(bad.data(), bad.size()), ErrorCode::CorruptFile);
    CHECK_THROWS_CODE(GraphIndex::open_image(FileMapping::borrow(bad.data(), bad.size()), true), ErrorCode::CorruptFile);
  }
  for (size_t len : {size_t(0), size_t(63), good.size() / 2, good.size() - 1}) {
    CHECK_THROWS_CODE(GraphIndex::deserialize(good.data(), len), ErrorCode::CorruptFile);
  }
  // A flat file is not a graph.
  const auto flat = bytes_of(*p.flat);
  CHECK_THROWS_CODE(GraphIndex::deserialize(flat.data(), flat.size()), ErrorCode::WrongKind);
}

TEST("graph nprobe: the partition and its searches do not depend on the number of threads; all groups find the exact top 10") {
  const size_t n = 6000, d = 16, nq = 40, k = 10;
  auto x = testutil::random_vectors(n, d, 31);
  auto q = testutil::random_vectors(nq, d, 32);
  ThreadPool& pool = ThreadPool::global();
  const size_t before = pool.threads();
  for (Metric m : kMetrics) {
    GraphIndex g(d, m);
    g.add(x.data(), n, nullptr);
    FlatIndex flat(d, m);
    flat.add(x.data(), n, nullptr);
    GraphSearchParams some;
    some.ef = 16;
    some.nprobe = 3;
    // A copy made before the partition was trained trains its own, on 3 threads.
    const auto bytes = bytes_of(g);
    pool.set_threads(1);
    const SearchResults one = g.search(q.data(), nq, k, some);
    auto copy = GraphIndex::deserialize(bytes.data(), bytes.size());
    pool.set_threads(3);
    CHECK(same(copy->search(q.data(), nq, k, some), one));
    GraphSearchParams all = some;
    all.nprobe = n;  // more than the groups: every one
    GraphSearchParams walk;
    walk.ef = 16;
    const double with_all = recall(g.search(q.data(), nq, k, all), flat.search(q.data(), nq, k));
    CHECK(with_all >= 0.99);
    CHECK(with_all > recall(g.search(q.data(), nq, k, walk), flat.search(q.data(), nq, k)));
  }
  pool.set_threads(before);
}
