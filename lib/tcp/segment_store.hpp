// The worker's memory for out-of-order TCP bytes: a pool of fixed-size pages,
// a pool of segment nodes, and a small header per stream that has anything
// buffered. Everything is allocated at construction; nothing after. Indices,
// not pointers, so a StreamState spends 4 bytes on it.
//
// Layout. A buffered segment is one node owning a chain of whole pages (at
// most kMaxNodePages; longer runs become several nodes). Copying in and out
// walks the chain once, freeing returns whole pages with nothing to compact,
// and pages held are exactly the memory held: a 1-byte segment costs a page,
// the honest price of the tiny-segment attack that pages_per_connection caps.
// Packing segments together in pages would save memory on tiny segments but
// needs reference counts or compaction once overlaps trim them.
//
// Order. Per stream, nodes never overlap. They sit in a treap keyed by start
// offset (random priorities: expected O(log n) depth whatever order segments
// come in) and in a list in offset order. The treap finds where a segment
// lands in O(log n); the list walks the k nodes it overlaps in O(k); a range
// is rebuilt with its new nodes in O(log n + k) (split it out, build the run
// in one pass, merge back). Delivery consumes nodes from the front of the
// list and drops them from the treap with one split. A circular list in
// arrival order names the node that has waited longest in O(1).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "tcp/reassembly_counters.hpp"

namespace sf {

class SegmentStore {
 public:
  static constexpr std::uint32_t kNil = 0;  // node and buffer index 0 is never used
  static constexpr std::uint32_t kMaxNodePages = 32;

  SegmentStore(std::uint32_t page_size, std::uint32_t pages, ReassemblyCounters& counters);

  std::uint32_t page_size() const noexcept { return page_size_; }
  std::uint32_t pages_free() const noexcept { return pages_free_; }
  std::uint64_t pages_for(std::uint64_t bytes) const noexcept { return (bytes + page_size_ - 1) / page_size_; }
  std::uint32_t max_node_bytes() const noexcept { return page_size_ * kMaxNodePages; }

  // A stream's buffer. open() fails (kNil) only when no page is free either.
  std::uint32_t open() noexcept;
  void close(std::uint32_t buf) noexcept;  // frees every node and page
  std::uint32_t pages(std::uint32_t buf) const noexcept { return buffers_[buf].pages; }
  std::uint32_t bytes(std::uint32_t buf) const noexcept { return buffers_[buf].bytes; }
  std::uint32_t first(std::uint32_t buf) const noexcept { return buffers_[buf].first; }
  std::uint32_t oldest(std::uint32_t buf) const noexcept { return buffers_[buf].oldest; }

  std::uint64_t start(std::uint32_t n) const noexcept { return nodes_[n].start; }
  std::uint64_t end(std::uint32_t n) const noexcept { return nodes_[n].start + nodes_[n].len; }
  std::uint32_t len(std::uint32_t n) const noexcept { return nodes_[n].len; }
  std::uint64_t ts_ns(std::uint32_t n) const noexcept { return nodes_[n].ts_ns; }
  std::uint32_t next(std::uint32_t n) const noexcept { return nodes_[n].next; }
  // The last node starting at or before off, or kNil.
  std::uint32_t floor(std::uint32_t buf, std::uint64_t off) noexcept;

  // Rebuilding [a, b): begin_range takes the nodes starting in [a, b) out of
  // the treap; the caller then hands every one of them back, in offset order,
  // with keep() or add() (new nodes), and end_range puts the run back.
  void begin_range(std::uint32_t buf, std::uint64_t a, std::uint64_t b) noexcept;
  void keep(std::uint32_t n) noexcept;
  // A new node for bytes [start, start + data.size()), placed after prev in
  // offset order (kNil: first). data.size() <= max_node_bytes(), and the
  // caller has checked that the pages are free. Returns the node.
  std::uint32_t add(std::uint32_t buf, std::uint32_t prev, std::uint64_t start,
                    std::span<const std::uint8_t> data, std::uint64_t ts_ns) noexcept;
  void end_range(std::uint32_t buf) noexcept;

  // Drops the nodes starting below off (delivered or skipped). Returns buf,
  // or kNil when that emptied it (the buffer is closed then).
  std::uint32_t release_below(std::uint32_t buf, std::uint64_t off) noexcept;

  // Bytes [rel, rel + n) of node `node`, page by page: fn(std::span<const std::uint8_t>).
  template <typename Fn>
  void read(std::uint32_t node, std::uint32_t rel, std::uint32_t n, Fn&& fn) const noexcept;
  // How many of those bytes differ from src.
  std::uint32_t count_diff(std::uint32_t node, std::uint32_t rel, const std::uint8_t* src,
                           std::uint32_t n) const noexcept;
  void write(std::uint32_t node, std::uint32_t rel, const std::uint8_t* src, std::uint32_t n) noexcept;

  // Nodes visited by searches, walks and rebuilds: a cost measure for tests.
  std::uint64_t steps() const noexcept { return steps_; }
  void add_steps(std::uint64_t n) noexcept { steps_ += n; }
  // Full consistency check of one buffer (treap order and heap, lists,
  // counts): O(n), for tests.
  bool check(std::uint32_t buf) const noexcept;

 private:
  struct Node {
    std::uint64_t start;
    std::uint64_t ts_ns;
    std::uint32_t len;
    std::uint32_t first_page;
    std::uint32_t left;
    std::uint32_t right;
    std::uint32_t prio;
    std::uint32_t next;      // offset order; also the free list
    std::uint32_t age_prev;  // arrival order, circular
    std::uint32_t age_next;
  };
  static_assert(sizeof(Node) == 48);
  struct Buffer {
    std::uint32_t root;  // treap; also the free list
    std::uint32_t first;
    std::uint32_t oldest;
    std::uint32_t pages;
    std::uint32_t bytes;
  };
  static constexpr std::uint32_t kNoPage = UINT32_MAX;

  void split(std::uint32_t t, std::uint64_t key, std::uint32_t& l, std::uint32_t& r) noexcept;
  std::uint32_t merge(std::uint32_t a, std::uint32_t b) noexcept;
  void free_node(std::uint32_t buf, std::uint32_t n) noexcept;
  std::uint32_t next_prio() noexcept;
  std::uint8_t* page_data(std::uint32_t page) const noexcept {
    return data_.get() + static_cast<std::size_t>(page) * page_size_;
  }
  void set_pages_in_use() noexcept;
  // Bytes [rel, rel + n) of a node as (pointer, length) per page.
  template <typename Fn>
  void for_pages(std::uint32_t node, std::uint32_t rel, std::uint32_t n, Fn&& fn) const noexcept;

  std::uint32_t page_size_;
  std::uint32_t page_count_;
  std::uint32_t pages_free_;
  std::uint32_t free_page_ = kNoPage;
  std::uint32_t free_node_ = kNil;
  std::uint32_t free_buffer_ = kNil;
  std::uint32_t rng_ = 0x9e3779b9U;
  std::uint64_t steps_ = 0;
  ReassemblyCounters& counters_;
  std::unique_ptr<std::uint8_t[]> data_;
  std::vector<std::uint32_t> page_next_;
  std::vector<Node> nodes_;
  std::vector<Buffer> buffers_;
  // The range being rebuilt: the treap parts around it and the right spine
  // of the run built so far (a stack: the one-pass treap build).
  std::uint32_t range_left_ = kNil;
  std::uint32_t range_right_ = kNil;
  std::vector<std::uint32_t> spine_;
  std::uint32_t spine_size_ = 0;
};

template <typename Fn>
void SegmentStore::for_pages(std::uint32_t node, std::uint32_t rel, std::uint32_t n, Fn&& fn) const noexcept {
  std::uint32_t page = nodes_[node].first_page;
  for (std::uint32_t i = rel / page_size_; i > 0; --i) page = page_next_[page];
  std::uint32_t in = rel % page_size_;
  while (n > 0) {
    const std::uint32_t take = page_size_ - in < n ? page_size_ - in : n;
    fn(page_data(page) + in, take);
    n -= take;
    in = 0;
    page = page_next_[page];
  }
}

template <typename Fn>
void SegmentStore::read(std::uint32_t node, std::uint32_t rel, std::uint32_t n, Fn&& fn) const noexcept {
  for_pages(node, rel, n, [&](const std::uint8_t* p, std::uint32_t len) { fn(std::span<const std::uint8_t>(p, len)); });
}

}  // namespace sf
