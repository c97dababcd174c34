#include "ivf_list.h"

#include <vector>

namespace semvec {

const char* ivf_encoding_name(IvfEncoding encoding) {
  return encoding == IvfEncoding::Sq8 ? "sq8" : "f32";
}

IvfList::IvfList(size_t dim, bool l2, IvfEncoding encoding) : store_(PackedStore(dim, l2)) {
  if (encoding == IvfEncoding::Sq8) store_.emplace<Sq8>(Sq8{RowStore(dim, l2), CodeStore(dim, l2)});
}

size_t IvfList::size() const {
  const Sq8* s = std::get_if<Sq8>(&store_);
  return s ? s->rows.size() : packed().size();
}

const uint64_t* IvfList::ids() const {
  const Sq8* s = std::get_if<Sq8>(&store_);
  return s ? s->rows.ids() : packed().ids();
}

size_t IvfList::memory_usage() const {
  const Sq8* s = std::get_if<Sq8>(&store_);
  return s ? s->rows.memory_usage() + s->codes.memory_usage() : packed().memory_usage();
}

void IvfList::reserve(size_t n) {
  if (Sq8* s = std::get_if<Sq8>(&store_)) {
    s->rows.reserve(n);
    s->codes.reserve(n);
  } else {
    std::get<PackedStore>(store_).reserve(n);
  }
}

void IvfList::append(const float* x, size_t n, const uint64_t* ids, const float* centroid, ThreadPool* pool) {
  append_floats(x, n, ids, pool);
  if (Sq8* s = std::get_if<Sq8>(&store_)) s->codes.append(x, n, centroid);
}

void IvfList::append_floats(const float* x, size_t n, const uint64_t* ids, ThreadPool* pool) {
  if (Sq8* s = std::get_if<Sq8>(&store_)) {
    s->rows.append(x, n, ids, pool);
  } else {
    std::get<PackedStore>(store_).append(x, n, ids, false, pool);  // already unit vectors for Cosine
  }
}

void IvfList::encode(const float* centroid) {
  Sq8& s = std::get<Sq8>(store_);
  s.codes.reserve(s.rows.size());
  // The floats are row-major already: encoded where they are.
  if (s.rows.size() > 0) s.codes.append(s.rows.row(0), s.rows.size(), centroid);
}

uint64_t IvfList::remove_slot(size_t slot) {
  if (Sq8* s = std::get_if<Sq8>(&store_)) {
    s->codes.remove_slot(slot);
    return s->rows.remove_slot(slot);
  }
  return std::get<PackedStore>(store_).remove_slot(slot);
}

void IvfList::unpack_rows(size_t first, size_t count, float* out) const {
  if (const Sq8* s = std::get_if<Sq8>(&store_)) {
    s->rows.unpack_rows(first, count, out);
  } else {
    packed().unpack_rows(first, count, out);
  }
}

}  // namespace semvec
