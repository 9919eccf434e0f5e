#pragma once
// connection_slots: the open connections of one admin endpoint against that endpoint's own cap.
// Each endpoint (Unix socket, TCP, HTTP) has its own, so a flood on one (idle TCP connections
// need no token) never locks the operator out of another (the Unix socket). A connection holds
// its slot for its lifetime; the slot frees itself when the connection object goes.
// Used on the admin io thread only.

#include <cstddef>
#include <memory>

namespace shoal {

class connection_slots {
 public:
  explicit connection_slots(std::size_t cap) : cap_(cap) {}

  class slot {
   public:
    slot() = default;
    explicit slot(std::shared_ptr<std::size_t> open) : open_(std::move(open)) { ++*open_; }
    slot(slot&&) noexcept = default;
    slot& operator=(slot&& o) noexcept {
      release();
      open_ = std::move(o.open_);
      return *this;
    }
    slot(const slot&) = delete;
    slot& operator=(const slot&) = delete;
    ~slot() { release(); }
    explicit operator bool() const { return open_ != nullptr; }

   private:
    void release() {
      if (open_) {
        --*open_;
        open_.reset();
      }
    }
    // Shared with the endpoint, so a connection that outlives it (torn down with the io
    // context) still releases safely.
    std::shared_ptr<std::size_t> open_;
  };

  // A slot, or an empty one when the endpoint is full.
  slot try_take() { return *open_ < cap_ ? slot(open_) : slot(); }

  std::size_t cap() const { return cap_; }
  std::size_t open() const { return *open_; }

 private:
  std::size_t cap_;
  std::shared_ptr<std::size_t> open_ = std::make_shared<std::size_t>(0);
};

}  // namespace shoal
