// Inverted-file (IVF) approximate index. k-means splits the space into
// `nlist` cells; each vector is stored in the inverted list of its nearest
// centroid; a query scans only the `nprobe` lists whose centroids score best,
// exactly (top-k within them). nprobe = nlist scans everything and equals the
// flat index.
//
// Lists (ivf_list.h) keep their vectors packed with ids and L2 norms, so a
// probe is a streaming scan with the same kernels as the flat index. Batch
// search groups queries by list, so each probed list is read once per batch.
//
// With the Sq8 encoding, each list keeps 8-bit codes of its vectors'
// residuals (sq8.h) beside the floats (row-major): a probe scans the codes (a
// quarter of the bytes) for the best `rerank` candidates, which are then
// scored again exactly from the floats. rerank = 0 skips that step: scores
// are the 8-bit estimates.
//
// With Rq4 or Rq1, each list keeps RaBitQ-style codes of 4 or 1 bits per
// component (rabitq.h) beside the floats, scanned and re-ranked the same
// way; the index holds the random rotation of the codes and its centroids
// rotated. These encodings take dim <= kMaxRqDim; their files are format
// 4.0 (ivf_index_v3.cpp).
//
// Coarse assignment uses the index metric: nearest centroid for L2, largest
// inner product for IP and Cosine. IP and Cosine train spherical k-means
// (unit centroids); Cosine also normalises the vectors.
//
// An index opened from a file (open) searches the file's pages in place
// and is read-only: add, remove and train throw Error(ReadOnly); nprobe and
// rerank, settings of the object rather than the file, can still change.
// It holds the mapping, which goes when the last holder of the index does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "allow_mask.h"
#include "file_format.h"
#include "file_mapping.h"
#include "file_sections.h"
#include "id_table.h"
#include "ivf_list.h"
#include "ivf_probes.h"
#include "kmeans.h"
#include "metric.h"
#include "packed_store.h"
#include "rabitq.h"
#include "rw_lock.h"
#include "search_results.h"

namespace semvec {

// Largest dim of an Rq4 or Rq1 index (its rotation costs dim^2 floats and
// dim^3 operations to make).
constexpr size_t kMaxRqDim = 2048;
// Seed of the rotation of Rq4 and Rq1 codes.
constexpr uint64_t kRqRotationSeed = 0x5eed0f2abb17ull;

// Default candidates re-ranked exactly per query by an Sq8 index.
constexpr size_t kDefaultRerank = 64;

// The nprobe of an index made without one: min(kDefaultNprobe, nlist).
constexpr size_t kDefaultNprobe = 8;
inline size_t default_nprobe(size_t nlist) { return nlist < kDefaultNprobe ? nlist : kDefaultNprobe; }

// What one search may choose for itself, as FAISS's SearchParametersIVF.
// An unset optional (std::nullopt, the default) means the index's own
// setting: nprobe(), rerank().
struct IvfSearchParams {
  // Lists probed per query, 1..nlist.
  std::optional<size_t> nprobe;
  // Sq8 only: candidates re-scored exactly from the floats, at least k of
  // them, 0..kMaxRerank; 0: the 8-bit estimates are the scores.
  std::optional<size_t> rerank;
  // Allow-list: only these n_allow ids may be returned (ids the index does
  // not hold are ignored); nullptr: any. Lists holding none are skipped, and
  // probing goes past nprobe lists until k allowed vectors have been seen
  // (or every list holding one has been scanned), so a filtered search
  // returns min(k, allowed) results.
  const uint64_t* allow = nullptr;
  size_t n_allow = 0;
};

class IvfIndex {
 public:
  IvfIndex(size_t dim, Metric metric, size_t nlist, size_t nprobe,
           IvfEncoding encoding = IvfEncoding::F32, size_t rerank = kDefaultRerank);

  size_t dim() const { return dim_; }
  Metric metric() const { return metric_; }
  size_t nlist() const { return nlist_; }
  size_t nprobe() const;
  void set_nprobe(size_t nprobe);
  IvfEncoding encoding() const { return encoding_; }
  size_t rerank() const;
  void set_rerank(size_t rerank);
  bool is_trained() const;
  size_t size() const;
  uint64_t next_id() const;
  // Heap bytes the index holds (a mapped index: its list objects only).
  size_t memory_usage() const;
  // Bytes of the file a mapped index maps (0 for an index in memory).
  size_t mapped_bytes() const;
  // Where the bytes are, by part. Heap: what memory_usage() counts, split
  // into codes, ids (list ids, norms and the id table), centroids (with
  // the rq rotation) and floats (F32 lists: all of it); floats_mapped: the
  // bytes of float vectors read in place from the mapped file.
  struct MemoryParts {
    size_t codes = 0, ids = 0, centroids = 0, floats = 0, other = 0, floats_mapped = 0;
  };
  MemoryParts memory_parts() const;
  // A mapped Sq8, Rq4 or Rq1 index: copies its codes, list ids and
  // centroids (what every search reads) into memory and leaves the float
  // vectors (read in place to re-rank) and the id table (read by filters,
  // contains and reconstruct) in the file (codes-only). Still read-only. Not mapped, or F32:
  // Error(InvalidArgument).
  void keep_codes_in_memory();
  // Whether the index is mapped from a file, and so read-only.
  bool read_only() const { return mapping_ != nullptr; }
  bool contains(uint64_t id) const;
  std::vector<size_t> list_sizes() const;
  std::vector<float> centroids() const;  // nlist * dim, empty before training

  // Trains the coarse quantizer with k-means (k = nlist) on x (n * dim).
  // Only an empty index can be trained (again). params.k, .spherical are set
  // here; the rest is the caller's, training_defaults() unless chosen.
  KMeansResult train(const float* x, size_t n, KMeansParams params);

  // IVF training defaults: fewer iterations (10) and points per centroid
  // (64) than k-means's own, and random init, as FAISS trains its coarse
  // quantizers; the rest (the seed) is k-means's (KMeansParams).
  static KMeansParams training_defaults();

  // Adds vectors to the lists of their nearest centroids; all or nothing.
  void add(const float* x, size_t n, const uint64_t* ids);

  // The best min(k, candidates) of nq queries (q: nq * dim) among the
  // vectors of the lists each query probes (see IvfSearchParams); k >= 1.
  SearchResults search(const float* q, size_t nq, size_t k, const IvfSearchParams& params = {}) const;

  size_t remove(const uint64_t* ids, size_t n);
  void reconstruct(uint64_t id, float* out) const;

  // A new empty index in memory with this one's dim, metric, nlist,
  // nprobe, encoding, rerank, next id and (if trained) the very same
  // centroids, so that vectors added to it go to the lists they would go
  // to here: a writable companion of a mapped index.
  std::unique_ptr<IvfIndex> empty_like() const;

  void save(const std::string& path) const;
  void serialize(const std::function<void*(size_t)>& alloc) const;
  // An index in memory from a file (any format) or its bytes.
  static std::unique_ptr<IvfIndex> load(const std::string& path);
  static std::unique_ptr<IvfIndex> deserialize(const void* data, size_t size);

  // A read-only index over the file mapped into memory (format 3 or
  // later; an older file is ERR_UNSUPPORTED_VERSION saying to load it).
  // Every field and section is checked against the file; with `verify`,
  // also the payload checksum and every check load() makes (O(size));
  // without, only the structure (O(nlist)): contents are trusted, though
  // no content can make a search read outside the file.
  static std::unique_ptr<IvfIndex> open(const std::string& path, bool verify = true);
  // The same over an image (a mapping, or borrowed memory: file_mapping.h).
  static std::unique_ptr<IvfIndex> open_image(std::shared_ptr<const FileMapping> image, bool verify = true);

 private:
  // For copies and readers, which set the rotation from the source
  // (set_rotation_locked): the seeded one (Gram-Schmidt on dim x dim, tens
  // of ms at 384 dims) is not computed only to be replaced.
  struct RotationGiven {};
  IvfIndex(size_t dim, Metric metric, size_t nlist, size_t nprobe, IvfEncoding encoding, size_t rerank,
           RotationGiven);
  // The fields of an IVF payload, every format (ivf_index_io.cpp).
  struct Fields {
    uint64_t next_id = 0;
    uint32_t nlist = 0, nprobe = 0;
    bool trained = false;
    IvfEncoding encoding = IvfEncoding::F32;
    uint32_t rerank = 0;
    uint64_t capacity = 0, max_probe = 0;  // format 3: the id table
  };
  void check_writable() const;
  size_t check_nprobe(size_t nprobe) const;
  static size_t check_rerank(size_t rerank);
  void set_centroids_locked(const float* c);
  // Rq: the rotation from its rows (dim * dim), and the centroids rotated.
  void set_rotation_locked(const float* rows);
  void assign_lists(const float* x, size_t n, uint32_t* lists) const;
  // Search (ivf_search.cpp).
  AllowMasks allow_masks_locked(const uint64_t* allow, size_t n_allow) const;
  IvfProbes plan_probes_locked(const float* qs, size_t nq, size_t nprobe, size_t k,
                               const AllowMasks* allowed) const;
  // Each query's best centroids into heaps[0..nq).
  void scan_centroids_locked(const float* qs, size_t nq, TopK* heaps) const;
  std::vector<Hit> coarse_hits_locked(TopK& heap, const float* q) const;
  void scan_f32_locked(const float* qs, size_t nq, const IvfProbes& probes, const AllowMasks* allowed,
                       TopK* heaps) const;
  // where_ values: (list << 32) | slot.
  static uint64_t pack_where(size_t list, size_t slot) { return (uint64_t(list) << 32) | uint64_t(slot); }
  static size_t where_list(uint64_t w) { return static_cast<size_t>(w >> 32); }
  static size_t where_slot(uint64_t w) { return static_cast<size_t>(w & 0xFFFFFFFFu); }

  // Persistence: formats 1.0 and 2.0 (ivf_index_io.cpp), 3.0 (ivf_index_v3.cpp).
  static Fields read_fields(Reader& r, const FileHeader& h);
  static std::unique_ptr<IvfIndex> read(Reader& r);
  static std::unique_ptr<IvfIndex> read_legacy(Reader& r, const FileHeader& h, const Fields& f);
  void read_trained_locked(Reader& r, uint64_t count, uint64_t next_id);
  // Sq8: codes of every list from its vectors (after a load of 1.0 or 2.0).
  void encode_all_locked();
  size_t payload_bytes_locked() const;
  void write_locked(Writer& w) const;
  static std::unique_ptr<IvfIndex> read_v3(Reader& r, const FileHeader& h, const Fields& f);
  // A format-3 index from the sections `table` lists, checked against the
  // layout its fields and list sizes imply, its arrays from `src`.
  template <typename Source>
  static std::unique_ptr<IvfIndex> assemble(const FileHeader& h, const Fields& f, const std::vector<Section>& table,
                                            Source& src, SectionLayout* layout);
  template <typename Source>
  void assemble_centroids_locked(const SectionLayout& l, Source& src);
  template <typename Source>
  void assemble_lists_locked(const SectionLayout& l, const uint64_t* sizes, Source& src);
  void check_contents_locked() const;

  size_t dim_;
  Metric metric_;
  size_t nlist_;
  size_t nprobe_;
  IvfEncoding encoding_;
  size_t rerank_;
  bool trained_ = false;
  uint64_t next_id_ = 0;
  size_t size_ = 0;
  PackedStore centroids_;             // ids = list numbers; norms for L2
  PodStorage<float> centroid_rows_;  // Sq8, Rq: the centroids row-major
  Rotation rotation_;                // Rq: P
  PodStorage<float> centroid_rot_;   // Rq: P c of every centroid, row-major
  // nlist slots once trained (none before); a list is allocated by the first
  // vector it receives and is null until then, so that nlist itself costs
  // no memory: neither in the constructor nor in a load.
  std::vector<std::unique_ptr<IvfList>> lists_;
  size_t list_size(size_t l) const { return l < lists_.size() && lists_[l] ? lists_[l]->size() : 0; }
  IvfList& make_list(size_t l);
  // id -> (list << 32) | slot
  IdTable where_;
  // Where the index holds `id`, if it does (and the place exists).
  bool locate_locked(uint64_t id, size_t* list, size_t* slot) const;
  std::shared_ptr<const FileMapping> mapping_;  // set: a read-only index over this file
  mutable RwLock mutex_;  // phase-fair: writers are not starved (rw_lock.h)
};

// A common choice of nlist for n vectors: about 4 * sqrt(n), at least 1 and
// at most n / 39 (so that training has ~39 points per centroid), rounded to
// a multiple of 16 when larger than 64.
size_t suggest_nlist(size_t n);

}  // namespace semvec
