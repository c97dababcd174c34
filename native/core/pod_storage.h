// The storage of an array of an index's stores (vectors, norms, ids, codes,
// the id table): either owned (a PodBuffer on the heap, growable) or
// borrowed (a read-only view into memory someone else keeps alive: a
// mapped index file, file_mapping.h). Readers see the same pointer either
// way, so the scan kernels, the allow-mask builder, the IVF probe and the
// re-ranking read owned and mapped indexes alike; writers ask for the
// owned buffer, which a borrowed storage refuses (ERR_READ_ONLY).
#pragma once

#include <cstddef>
#include <cstring>
#include <utility>

#include "buffer.h"
#include "errors.h"

namespace semvec {

template <typename T>
class PodStorage {
 public:
  PodStorage() = default;  // owned, empty
  explicit PodStorage(PodBuffer<T>&& owned) : owned_(std::move(owned)) {}
  PodStorage(PodStorage&&) noexcept = default;
  PodStorage& operator=(PodStorage&&) noexcept = default;

  // A read-only view of size values at data (which must outlive it).
  static PodStorage view(const T* data, size_t size) {
    PodStorage s;
    s.view_ = data;
    s.view_size_ = size;
    s.borrowed_ = true;
    return s;
  }

  bool borrowed() const { return borrowed_; }
  const T* data() const { return borrowed_ ? view_ : owned_.data(); }
  size_t size() const { return borrowed_ ? view_size_ : owned_.size(); }
  const T& operator[](size_t i) const { return data()[i]; }
  // Heap bytes held: the owned buffer's capacity; 0 when borrowed.
  size_t heap_bytes() const { return borrowed_ ? 0 : owned_.capacity() * sizeof(T); }

  // An owned copy (of a view, or of an owned buffer's size() values).
  PodStorage copy() const {
    PodBuffer<T> out;
    out.resize(size());
    if (size() > 0) std::memcpy(static_cast<void*>(out.data()), data(), size() * sizeof(T));
    return PodStorage(std::move(out));
  }

  // The owned buffer, to change it. A borrowed storage is read-only: the
  // indexes refuse writes to a mapped file before they get here, so this
  // is a second line of defence.
  PodBuffer<T>& owned() {
    if (borrowed_) throw Error(ErrorCode::ReadOnly, "this index is mapped from a file and is read-only");
    return owned_;
  }

 private:
  PodBuffer<T> owned_;
  const T* view_ = nullptr;
  size_t view_size_ = 0;
  bool borrowed_ = false;
};

}  // namespace semvec
