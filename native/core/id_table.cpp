#include "id_table.h"

#include <algorithm>
#include <string>

namespace semvec {

namespace {

// MurmurHash3's 64-bit finaliser: every input bit reaches every output bit,
// so sequential ids spread over the table.
inline uint64_t fmix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

}  // namespace

IdTable IdTable::view(const IdEntry* entries, size_t capacity, size_t size, size_t max_probe) {
  IdTable t;
  t.entries_ = PodStorage<IdEntry>::view(entries, capacity);
  t.size_ = size;
  t.max_probe_ = max_probe;
  return t;
}

IdTable IdTable::adopt(PodBuffer<IdEntry> entries, size_t size, size_t max_probe) {
  IdTable t;
  t.entries_ = PodStorage<IdEntry>(std::move(entries));
  t.size_ = size;
  t.max_probe_ = max_probe;
  return t;
}

size_t IdTable::home(uint64_t id) const {
  return static_cast<size_t>((static_cast<unsigned __int128>(fmix64(id)) * capacity()) >> 64);
}

size_t IdTable::position(uint64_t id) const {
  const size_t cap = capacity();
  if (cap == 0 || id == kEmptyId) return cap;
  const IdEntry* e = entries();
  size_t pos = home(id);
  const size_t probes = std::min(max_probe_, cap);
  for (size_t probe = 0; probe < probes; ++probe) {
    if (e[pos].id == id) return pos;
    if (e[pos].id == kEmptyId) return cap;
    if (++pos == cap) pos = 0;
  }
  return cap;
}

bool IdTable::find(uint64_t id, uint64_t* where) const {
  const size_t pos = position(id);
  if (pos == capacity()) return false;
  *where = entries()[pos].where;
  return true;
}

void IdTable::rehash(size_t capacity) {
  PodBuffer<IdEntry> fresh;
  fresh.resize(capacity);
  for (size_t i = 0; i < capacity; ++i) fresh[i] = IdEntry{kEmptyId, 0};
  IdTable next;
  next.entries_ = PodStorage<IdEntry>(std::move(fresh));
  const IdEntry* old = entries();
  for (size_t pos = 0; pos < this->capacity(); ++pos)
    if (old[pos].id != kEmptyId) next.insert(old[pos].id, old[pos].where);
  *this = std::move(next);
}

void IdTable::reserve(size_t n) {
  entries_.owned();  // a borrowed table is read-only
  if (n <= capacity() / 2) return;
  rehash(std::max(2 * n, capacity() + capacity() / 2));
}

void IdTable::insert(uint64_t id, uint64_t where) {
  PodBuffer<IdEntry>& e = entries_.owned();
  const size_t cap = e.size();
  if (2 * (size_ + 1) > cap) throw Error(ErrorCode::Internal, "id table insert without room");
  size_t pos = home(id), probe = 1;
  while (e[pos].id != kEmptyId) {
    if (++pos == cap) pos = 0;
    ++probe;
  }
  e[pos] = IdEntry{id, where};
  max_probe_ = std::max(max_probe_, probe);
  ++size_;
}

void IdTable::update(uint64_t id, uint64_t where) {
  const size_t pos = position(id);
  if (pos == capacity()) throw Error(ErrorCode::Internal, "id table update of an absent id");
  entries_.owned()[pos].where = where;
}

void IdTable::erase(uint64_t id) {
  size_t hole = position(id);
  if (hole == capacity()) throw Error(ErrorCode::Internal, "id table erase of an absent id");
  PodBuffer<IdEntry>& e = entries_.owned();
  const size_t cap = e.size();
  // Move back every later entry of the run whose home does not lie
  // (cyclically) after the hole, so lookups never meet a gap.
  for (size_t next = hole + 1 == cap ? 0 : hole + 1; e[next].id != kEmptyId; next = next + 1 == cap ? 0 : next + 1) {
    const size_t h = home(e[next].id);
    const bool stays = hole <= next ? (hole < h && h <= next) : (hole < h || h <= next);
    if (stays) continue;
    e[hole] = e[next];
    hole = next;
  }
  e[hole] = IdEntry{kEmptyId, 0};
  --size_;
}

void IdTable::check_entry(size_t pos) const {
  const uint64_t id = entries()[pos].id;
  if (id > kMaxId)
    throw Error(ErrorCode::CorruptFile,
                "corrupt semvec index file: id " + std::to_string(id) + " is outside 0..2^53-1");
  if (position(id) != pos) corrupt("an id table entry cannot be found by a lookup (a repeated id, or a wrong max probe)");
}

void IdTable::corrupt(const char* why) {
  throw Error(ErrorCode::CorruptFile, std::string("corrupt semvec index file: ") + why);
}

}  // namespace semvec
