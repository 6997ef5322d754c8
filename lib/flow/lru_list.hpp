// Recency order of a shard's flows (intrusive doubly-linked list over flow
// indices), so a full table can evict its least recently active flow in O(1).
#pragma once

#include <cstdint>
#include <vector>

namespace sf {

class LruList {
 public:
  static constexpr std::uint32_t kNil = UINT32_MAX;

  explicit LruList(std::uint32_t capacity) : next_(capacity, kNil), prev_(capacity, kNil), linked_(capacity, 0) {}

  // Moves idx to the most-recent end (inserting it if absent).
  void touch(std::uint32_t idx) noexcept {
    if (linked_[idx]) {
      if (tail_ == idx) return;
      unlink(idx);
    }
    prev_[idx] = tail_;
    next_[idx] = kNil;
    if (tail_ != kNil) next_[tail_] = idx; else head_ = idx;
    tail_ = idx;
    linked_[idx] = 1;
  }

  void remove(std::uint32_t idx) noexcept {
    if (linked_[idx]) unlink(idx);
  }

  // Least recently touched index, or kNil when empty.
  std::uint32_t oldest() const noexcept { return head_; }

 private:
  void unlink(std::uint32_t idx) noexcept {
    const std::uint32_t n = next_[idx];
    const std::uint32_t p = prev_[idx];
    if (p != kNil) next_[p] = n; else head_ = n;
    if (n != kNil) prev_[n] = p; else tail_ = p;
    linked_[idx] = 0;
  }

  std::uint32_t head_ = kNil;
  std::uint32_t tail_ = kNil;
  std::vector<std::uint32_t> next_;
  std::vector<std::uint32_t> prev_;
  std::vector<std::uint8_t> linked_;
};

}  // namespace sf
