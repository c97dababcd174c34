// Exact top-k selection. "Better" means a higher score, and on equal scores
// the lower id, so results never depend on thread count or insertion order.
// Never pads: a selection over fewer than k candidates returns fewer.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace semvec {

struct Hit {
  float score;
  uint64_t id;
};

inline bool better(const Hit& a, const Hit& b) {
  return a.score > b.score || (a.score == b.score && a.id < b.id);
}

class TopK {
 public:
  explicit TopK(size_t k) : k_(k) { heap_.reserve(k); }

  size_t k() const { return k_; }
  size_t size() const { return heap_.size(); }

  // Scores below this cannot enter; scores equal to it may (lower id wins).
  float threshold() const {
    return heap_.size() < k_ ? -std::numeric_limits<float>::infinity() : heap_.front().score;
  }

  // A NaN score cannot be ranked and is dropped (only a file opened
  // without verification can hold vectors that score NaN).
  void push(float score, uint64_t id) {
    if (score != score) return;
    Hit h{score, id};
    if (heap_.size() < k_) {
      heap_.push_back(h);
      std::push_heap(heap_.begin(), heap_.end(), better);
    } else if (k_ > 0 && better(h, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), better);
      heap_.back() = h;
      std::push_heap(heap_.begin(), heap_.end(), better);
    }
  }

  void merge(const TopK& other) {
    for (const Hit& h : other.heap_) push(h.score, h.id);
  }

  // The kept hits, best first; leaves the selection empty.
  std::vector<Hit> take_sorted() {
    std::sort(heap_.begin(), heap_.end(), better);
    std::vector<Hit> out;
    out.swap(heap_);
    return out;
  }

 private:
  size_t k_;
  std::vector<Hit> heap_;  // worst kept hit at the front
};

}  // namespace semvec
