// The storage of a graph index: contiguous arrays with one entry per slot.
// Slots are dense (0..size-1) in the order vectors were added; a removed
// vector keeps its slot, marked deleted (a tombstone), until the graph is
// compacted. Every array is a plain run of fixed-size records, so the file
// format holds them as they are (docs/file-format.md):
//   vectors  size * dim f32, row-major (unit vectors for cosine)
//   sqnorms  size f32 (l2 only): ||x||^2 of each vector, for exact scores
//   codes    size * code_stride bytes (graph_codes.h)
//   links    size * degree u32: each slot's neighbour slots, kNoLink after
//            the last (a row of 32 links is two cache lines)
//   ids      size u64
//   deleted  size u8: 1 for a tombstone
// Each array is owned (growable) or borrowed from a mapped file
// (pod_storage.h): readers see one pointer either way; a borrowed store is
// read-only (the index refuses writes before they get here).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "pod_storage.h"

namespace semvec {

class ThreadPool;

constexpr uint32_t kNoLink = 0xFFFFFFFFu;

class GraphStore {
 public:
  GraphStore(size_t dim, size_t degree, bool l2);
  // A store of `size` slots over existing arrays (sizes as above, codes
  // rows of `code_stride` bytes: graph_code_stride, or a format 3 file's;
  // sqnorms empty unless l2), owned or borrowed: a file read or mapped.
  GraphStore(size_t dim, size_t degree, bool l2, size_t size, size_t code_stride, PodStorage<float> vectors,
             PodStorage<float> sqnorms, PodStorage<uint8_t> codes, PodStorage<uint32_t> links,
             PodStorage<uint64_t> ids, PodStorage<uint8_t> deleted);
  GraphStore(GraphStore&&) noexcept = default;
  GraphStore& operator=(GraphStore&&) noexcept = default;

  size_t size() const { return size_; }
  size_t dim() const { return dim_; }
  size_t degree() const { return degree_; }
  bool l2() const { return l2_; }
  size_t code_stride() const { return code_stride_; }

  const float* vector(size_t slot) const { return vectors_.data() + slot * dim_; }
  const float* vectors() const { return vectors_.data(); }
  // ||x||^2 of a slot's vector (l2 only).
  float sqnorm(size_t slot) const { return sqnorms_[slot]; }
  const float* sqnorms() const { return l2_ ? sqnorms_.data() : nullptr; }
  const uint8_t* code(size_t slot) const { return codes_.data() + slot * code_stride_; }
  const uint8_t* codes() const { return codes_.data(); }
  const uint32_t* links(size_t slot) const { return links_.data() + slot * degree_; }
  const uint32_t* all_links() const { return links_.data(); }
  // Neighbours of a slot: its links before the first kNoLink.
  size_t link_count(size_t slot) const;
  uint64_t id(size_t slot) const { return ids_[slot]; }
  const uint64_t* ids() const { return ids_.data(); }
  bool deleted(size_t slot) const { return deleted_[slot] != 0; }
  const uint8_t* deleted_flags() const { return deleted_.data(); }
  // The deleted flags when a slot is deleted, else null: a walk's filter
  // then reads none (graph_search.h).
  const uint8_t* tombstone_flags() const { return tombstones_ ? deleted_.data() : nullptr; }
  size_t memory_usage() const;

  // Makes room for n slots in all; grows geometrically. May throw
  // std::bad_alloc (contents kept).
  void reserve(size_t n);

  // Appends n vectors (x: n * dim) with their ids, no links yet. With
  // `normalize`, each vector is scaled to unit norm (zero vectors stay
  // zero). Codes (and norms) are computed here, on `pool` (may be null)
  // for large appends. Call reserve(size() + n) first: then this
  // allocates nothing and cannot fail.
  void append(const float* x, size_t n, const uint64_t* ids, bool normalize, ThreadPool* pool);

  // Whether the code rows hold anchors (graph_codes.h): all but some
  // format 3 files' rows.
  bool anchored() const;
  // The anchor of a slot's code, or kNoAnchor.
  uint32_t anchor(size_t slot) const;
  // Encodes a slot's code again as its residual from slot `anchor` (or
  // kNoAnchor: none), which must have no anchor itself. Returns whether
  // the code uses it (not when the anchor is farther than the origin, or
  // the rows hold no anchors).
  bool set_anchor(size_t slot, uint32_t anchor, std::vector<double>& scratch);

  // Replaces the links of a slot with count <= degree slots.
  void set_links(size_t slot, const uint32_t* to, size_t count);
  void set_deleted(size_t slot, bool deleted);

  // Keeps only the slots with keep[slot] set, in order, renumbered densely;
  // links to dropped slots are removed, and codes anchored to dropped
  // slots are encoded again without an anchor. Returns the new slot of each old
  // one (kNoLink for dropped).
  std::vector<uint32_t> compact(const std::vector<uint8_t>& keep);

  // Whether the arrays are borrowed (a mapped file).
  bool borrowed() const { return ids_.borrowed(); }

 private:
  void resize(size_t n);
  size_t count_tombstones() const;

  size_t dim_;
  size_t degree_;
  bool l2_;
  size_t code_stride_;
  size_t size_ = 0;
  PodStorage<float> vectors_;
  PodStorage<float> sqnorms_;
  PodStorage<uint8_t> codes_;
  PodStorage<uint32_t> links_;
  PodStorage<uint64_t> ids_;
  PodStorage<uint8_t> deleted_;
  size_t tombstones_ = 0;  // deleted slots
};

}  // namespace semvec
