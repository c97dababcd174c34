#include "ivf_list.h"

#include <vector>

namespace semvec {

const char* ivf_encoding_name(IvfEncoding encoding) {
  switch (encoding) {
    case IvfEncoding::F32: return "f32";
    case IvfEncoding::Sq8: return "sq8";
    case IvfEncoding::Rq4: return "rq4";
    case IvfEncoding::Rq1: return "rq1";
  }
  return "f32";
}

unsigned ivf_encoding_bits(IvfEncoding encoding) {
  switch (encoding) {
    case IvfEncoding::F32: return 32;
    case IvfEncoding::Sq8: return 8;
    case IvfEncoding::Rq4: return 4;
    case IvfEncoding::Rq1: return 1;
  }
  return 32;
}

IvfList::IvfList(size_t dim, bool l2, IvfEncoding encoding) : store_(PackedStore(dim, l2)) {
  if (encoding == IvfEncoding::Sq8) store_.emplace<Sq8>(Sq8{RowStore(dim, l2), CodeStore(dim, l2)});
  if (is_rq(encoding)) store_.emplace<Rq>(Rq{RowStore(dim, l2), RqCodeStore(dim, ivf_encoding_bits(encoding), l2)});
}

const RowStore& IvfList::rows() const {
  if (const Rq* r = std::get_if<Rq>(&store_)) return r->rows;
  return std::get<Sq8>(store_).rows;
}

void IvfList::append_rq(const float* x, const float* xr, size_t n, const uint64_t* ids, const float* c,
                        const float* cr) {
  Rq& r = std::get<Rq>(store_);
  r.rows.append(x, n, ids, nullptr);
  r.codes.append(x, xr, n, c, cr);
}

size_t IvfList::size() const {
  if (std::holds_alternative<PackedStore>(store_)) return packed().size();
  return rows().size();
}

const uint64_t* IvfList::ids() const {
  if (std::holds_alternative<PackedStore>(store_)) return packed().ids();
  return rows().ids();
}

size_t IvfList::memory_usage() const {
  if (const Sq8* s = std::get_if<Sq8>(&store_)) return s->rows.memory_usage() + s->codes.memory_usage();
  if (const Rq* r = std::get_if<Rq>(&store_)) return r->rows.memory_usage() + r->codes.memory_usage();
  return packed().memory_usage();
}

void IvfList::own_codes() {
  if (Sq8* s = std::get_if<Sq8>(&store_)) {
    s->rows.own_ids_and_norms();
    s->codes.own();
  } else if (Rq* r = std::get_if<Rq>(&store_)) {
    r->rows.own_ids_and_norms();
    r->codes.own();
  }
}

size_t IvfList::codes_heap_bytes() const {
  if (const Sq8* s = std::get_if<Sq8>(&store_)) return s->codes.memory_usage();
  if (const Rq* r = std::get_if<Rq>(&store_)) return r->codes.memory_usage();
  return 0;
}

size_t IvfList::ids_heap_bytes() const {
  if (std::holds_alternative<PackedStore>(store_)) return 0;  // counted with the floats
  return rows().ids_heap_bytes();
}

size_t IvfList::floats_heap_bytes() const {
  if (std::holds_alternative<PackedStore>(store_)) return packed().memory_usage();
  return rows().rows_heap_bytes();
}

size_t IvfList::floats_bytes() const {
  if (std::holds_alternative<PackedStore>(store_)) return size() * packed().dim() * sizeof(float);
  return rows().rows_bytes();
}

void IvfList::reserve(size_t n) {
  if (Sq8* s = std::get_if<Sq8>(&store_)) {
    s->rows.reserve(n);
    s->codes.reserve(n);
  } else if (Rq* r = std::get_if<Rq>(&store_)) {
    r->rows.reserve(n);
    r->codes.reserve(n);
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
  if (Rq* r = std::get_if<Rq>(&store_)) {
    r->codes.remove_slot(slot);
    return r->rows.remove_slot(slot);
  }
  return std::get<PackedStore>(store_).remove_slot(slot);
}

void IvfList::unpack_rows(size_t first, size_t count, float* out) const {
  if (!std::holds_alternative<PackedStore>(store_)) {
    rows().unpack_rows(first, count, out);
  } else {
    packed().unpack_rows(first, count, out);
  }
}

}  // namespace semvec
