// The id lookup of an index: id -> where the index stores it (a flat
// index's slot; an IVF index's (list << 32) | slot).
//
// An open-addressing hash table with linear probing: `capacity` entries of
// 16 bytes (id, where), an empty entry holding id kEmptyId (above every
// id) and where 0. An id's home entry is fmix64(id) (MurmurHash3's
// finaliser) scaled to the capacity by a 64 x 64 -> 128-bit multiply, so
// any capacity works. The table is kept at most half full, and it records
// max_probe, the entries a lookup inspects at most (the longest probe of
// any id, plus one; an upper bound once ids are erased): a lookup ends at
// an empty entry or after max_probe entries, so even a table mapped from a
// file nobody verified answers every lookup in bounded time.
//
// The file format stores this table as it is (docs/file-format.md), so a
// mapped index answers has(), get() and allow-lists without building
// anything at open. Its storage is owned (growable) or borrowed from a
// mapping (pod_storage.h, read-only).
#pragma once

#include <cstddef>
#include <cstdint>

#include "api_limits.h"
#include "errors.h"
#include "pod_storage.h"

namespace semvec {

struct IdEntry {
  uint64_t id;
  uint64_t where;
};

constexpr uint64_t kEmptyId = ~uint64_t(0);

class IdTable {
 public:
  IdTable() = default;
  IdTable(IdTable&&) noexcept = default;
  IdTable& operator=(IdTable&&) noexcept = default;

  // A read-only table over `capacity` entries (kept alive by the caller)
  // holding `size` ids.
  static IdTable view(const IdEntry* entries, size_t capacity, size_t size, size_t max_probe);
  // The same, owned (read from a file).
  static IdTable adopt(PodBuffer<IdEntry> entries, size_t size, size_t max_probe);

  size_t size() const { return size_; }
  size_t capacity() const { return entries_.size(); }
  size_t max_probe() const { return max_probe_; }
  const IdEntry* entries() const { return entries_.data(); }
  // Heap bytes held (0 when borrowed).
  size_t memory_usage() const { return entries_.heap_bytes(); }

  // Sets *where and returns true when `id` is in the table.
  bool find(uint64_t id, uint64_t* where) const;
  // 1 when `id` is in the table, else 0 (as std::unordered_map::count).
  size_t count(uint64_t id) const {
    uint64_t where;
    return find(id, &where) ? 1 : 0;
  }

  // Makes room for n ids in all, keeping the table at most half full (a
  // rehash; std::bad_alloc leaves the table unchanged).
  void reserve(size_t n);
  // Adds an id that is not in the table. Call reserve(size() + 1) (or
  // more) first: then this allocates nothing and cannot fail.
  void insert(uint64_t id, uint64_t where);
  // Changes where a present id is stored.
  void update(uint64_t id, uint64_t where);
  // Removes a present id (backward-shift deletion: no tombstones).
  void erase(uint64_t id);

  // The canonical table of n ids, as files hold it: capacity 2n, the ids
  // inserted in the order entry(i, &id, &where) gives them (i = 0..n-1).
  template <typename Entry>
  static IdTable build(size_t n, Entry entry) {
    IdTable t;
    t.rehash(2 * n);
    for (size_t i = 0; i < n; ++i) {
      uint64_t id, where;
      entry(i, &id, &where);
      t.insert(id, where);
    }
    return t;
  }

  // Checks a table read from a file against the index (ERR_CORRUPT_FILE
  // naming what is wrong): it holds exactly `expected` ids, each at most
  // kMaxId, each found by a lookup at its own entry (so no id appears
  // twice and none lies beyond max_probe), and stored_id(where, &id) finds
  // each where in the index holding that very id; empty entries are
  // zero. Returns the largest id (0 when empty). O(capacity).
  template <typename StoredId>
  uint64_t check(size_t expected, StoredId stored_id) const {
    const IdEntry* e = entries();
    size_t found = 0;
    uint64_t largest = 0;
    for (size_t pos = 0; pos < capacity(); ++pos) {
      if (e[pos].id == kEmptyId) {
        if (e[pos].where != 0) corrupt("an empty id table entry is not zero");
        continue;
      }
      check_entry(pos);
      uint64_t id = 0;
      if (!stored_id(e[pos].where, &id) || id != e[pos].id) corrupt("the id table does not match the stored ids");
      largest = e[pos].id > largest ? e[pos].id : largest;
      ++found;
    }
    if (found != expected || size_ != expected) corrupt("the id table does not hold every stored id once");
    return largest;
  }

 private:
  size_t home(uint64_t id) const;
  // The entry holding id, or capacity() when absent.
  size_t position(uint64_t id) const;
  // Rebuilds the table with `capacity` entries (at least 2 * size()).
  void rehash(size_t capacity);
  // The id at entry pos is at most kMaxId and a lookup finds it there.
  void check_entry(size_t pos) const;
  [[noreturn]] static void corrupt(const char* why);

  PodStorage<IdEntry> entries_;
  size_t size_ = 0;
  size_t max_probe_ = 0;
};

}  // namespace semvec
