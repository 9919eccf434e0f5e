#pragma once
// slot_ring: a fixed-capacity ring of (t, v) slots kept in time order.
// It is the per-input window C[u, i, p, {t, v}] of design §5: slot p = 0 is the oldest,
// p = size() - 1 the newest. Pushing onto a full ring overwrites the oldest slot.
// Plain C++ so kernels can read windows without knowing the actor runtime.

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "messages/value.hpp"

namespace shoal {

struct slot {
  std::int64_t t = 0;  // bucket start, ns UTC
  value_ptr v;         // never null once pushed
};

class slot_ring {
 public:
  explicit slot_ring(std::size_t capacity = 1) : slots_(capacity ? capacity : 1) {}

  std::size_t capacity() const { return slots_.size(); }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool full() const { return size_ == slots_.size(); }

  // p = 0 is the oldest slot.
  const slot& operator[](std::size_t p) const {
    assert(p < size_);
    return slots_[(head_ + p) % slots_.size()];
  }
  const slot& back() const { return (*this)[size_ - 1]; }

  void push(slot s) {
    if (full()) {
      slots_[head_] = std::move(s);
      head_ = (head_ + 1) % slots_.size();
    } else {
      slots_[(head_ + size_) % slots_.size()] = std::move(s);
      ++size_;
    }
  }

  void clear() {
    for (auto& s : slots_) s = slot{};
    head_ = size_ = 0;
  }

 private:
  std::vector<slot> slots_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace shoal
