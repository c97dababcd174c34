// The id table (id_table.h): lookups, inserts and backward-shift erases
// agree with std::unordered_map; views answer as the owner; a table read
// from a file is checked entry by entry; lookups end within max_probe.
#include <algorithm>
#include <cstring>
#include <random>
#include <unordered_map>
#include <vector>

#include "harness.h"
#include "id_table.h"

using namespace semvec;

TEST("id table: random inserts, updates and erases agree with std::unordered_map, and a view agrees with its owner") {
  std::mt19937_64 rng(5);
  IdTable t;
  std::unordered_map<uint64_t, uint64_t> ref;
  std::vector<uint64_t> present;
  for (int step = 0; step < 60000; ++step) {
    const int op = static_cast<int>(rng() % 10);
    if (op < 6 || present.empty()) {
      // Clustered and sequential ids: the worst case for a weak hash.
      const uint64_t id = rng() % 3 == 0 ? rng() % kMaxId : uint64_t(step) * 16;
      if (ref.count(id)) continue;
      t.reserve(t.size() + 1);
      t.insert(id, uint64_t(step));
      ref[id] = uint64_t(step);
      present.push_back(id);
    } else if (op < 8) {
      const size_t i = rng() % present.size();
      t.erase(present[i]);
      ref.erase(present[i]);
      present[i] = present.back();
      present.pop_back();
    } else {
      const uint64_t id = present[rng() % present.size()];
      t.update(id, ref[id] = uint64_t(1000000 + step));  // wheres stay unique
    }
    CHECK(2 * t.size() <= t.capacity());
  }
  CHECK_EQ(t.size(), ref.size());
  const IdTable v = IdTable::view(t.entries(), t.capacity(), t.size(), t.max_probe());
  for (const IdTable* table : {static_cast<const IdTable*>(&t), &v}) {
    for (const auto& [id, where] : ref) {
      uint64_t w = 0;
      CHECK(table->find(id, &w));
      CHECK_EQ(w, where);
    }
    for (uint64_t id : {uint64_t(1), uint64_t(17), kMaxId, kEmptyId}) CHECK_EQ(table->count(id), ref.count(id));
  }
  // Every entry is where a lookup finds it: the file check passes.
  std::unordered_map<uint64_t, uint64_t> id_of;
  uint64_t expect = 0;
  for (const auto& [id, where] : ref) {
    id_of[where] = id;
    expect = std::max(expect, id);
  }
  const uint64_t largest = v.check(ref.size(), [&](uint64_t where, uint64_t* id) {
    auto it = id_of.find(where);
    if (it == id_of.end()) return false;
    *id = it->second;
    return true;
  });
  CHECK_EQ(largest, expect);
}

TEST("id table: build gives the canonical table (capacity 2n, same bytes for the same order)") {
  auto entry = [](size_t i, uint64_t* id, uint64_t* where) {
    *id = 1000 + 7 * i;
    *where = i;
  };
  IdTable a = IdTable::build(100, entry), b = IdTable::build(100, entry);
  CHECK_EQ(a.capacity(), size_t(200));
  CHECK_EQ(a.size(), size_t(100));
  CHECK_EQ(a.max_probe(), b.max_probe());
  CHECK(std::memcmp(a.entries(), b.entries(), 200 * sizeof(IdEntry)) == 0);
  CHECK_EQ(a.check(100, [](uint64_t where, uint64_t* id) {
    *id = 1000 + 7 * where;
    return where < 100;
  }),
           uint64_t(1000 + 7 * 99));
  IdTable empty = IdTable::build(0, entry);
  CHECK_EQ(empty.capacity(), size_t(0));
  CHECK_EQ(empty.count(0), size_t(0));
}

TEST("id table: check refuses repeated ids, ids past 2^53-1, wrong wheres, unreachable entries and dirty empties") {
  auto entry = [](size_t i, uint64_t* id, uint64_t* where) {
    *id = i;
    *where = i;
  };
  auto stored = [](uint64_t where, uint64_t* id) {
    *id = where;
    return where < 10;
  };
  const IdTable good = IdTable::build(10, entry);
  std::vector<IdEntry> e(good.entries(), good.entries() + good.capacity());
  auto with = [&](auto edit, size_t max_probe) {
    std::vector<IdEntry> copy = e;
    edit(copy);
    return std::make_pair(copy, max_probe);
  };
  auto first_full = [&](std::vector<IdEntry>& c) -> IdEntry& {
    for (IdEntry& x : c)
      if (x.id != kEmptyId) return x;
    return c[0];
  };
  auto first_empty = [&](std::vector<IdEntry>& c) -> IdEntry& {
    for (IdEntry& x : c)
      if (x.id == kEmptyId) return x;
    return c[0];
  };
  std::vector<std::pair<std::vector<IdEntry>, size_t>> bad = {
      with([&](std::vector<IdEntry>& c) { first_empty(c) = first_full(c); }, good.capacity()),  // a repeat
      with([&](std::vector<IdEntry>& c) { first_full(c).id = kMaxId + 1; }, good.max_probe()),
      with([&](std::vector<IdEntry>& c) { first_full(c).where = 11; }, good.max_probe()),
      with([&](std::vector<IdEntry>& c) { first_empty(c).where = 3; }, good.max_probe()),
      with([](std::vector<IdEntry>&) {}, 0),  // max probe too small: entries unreachable
  };
  for (auto& [entries, probe] : bad) {
    const IdTable v = IdTable::view(entries.data(), entries.size(), 10, probe);
    CHECK_THROWS_CODE(v.check(10, stored), ErrorCode::CorruptFile);
  }
  const IdTable v = IdTable::view(e.data(), e.size(), 10, good.max_probe());
  CHECK_THROWS_CODE(v.check(9, stored), ErrorCode::CorruptFile);  // more ids than stored
}

TEST("id table: a full table with no empty entry still answers every lookup within max_probe") {
  std::vector<IdEntry> full(64);
  for (size_t i = 0; i < full.size(); ++i) full[i] = IdEntry{i * 3, i};
  for (size_t probe : {size_t(0), size_t(5), size_t(64), size_t(1) << 40}) {
    const IdTable v = IdTable::view(full.data(), full.size(), 64, probe);
    for (uint64_t id = 0; id < 300; ++id) {
      uint64_t where = 0;
      if (v.find(id, &where)) CHECK_EQ(where * 3, id);
    }
  }
  IdTable v = IdTable::view(full.data(), full.size(), 64, 64);
  CHECK_THROWS_CODE(v.reserve(65), ErrorCode::ReadOnly);
  CHECK_THROWS_CODE(v.erase(0), ErrorCode::ReadOnly);
}
