#include "tcp/segment_store.hpp"

#include <algorithm>
#include <cstring>

namespace sf {

SegmentStore::SegmentStore(std::uint32_t page_size, std::uint32_t pages, ReassemblyCounters& counters)
    : page_size_(page_size == 0 ? 1 : page_size),
      page_count_(std::min(pages, UINT32_MAX - 1)),
      pages_free_(page_count_),
      counters_(counters),
      // Not zeroed: pages are only read where they were written, and an
      // untouched pool costs no resident memory.
      data_(std::make_unique_for_overwrite<std::uint8_t[]>(static_cast<std::size_t>(page_count_) * page_size_)),
      page_next_(page_count_),
      nodes_(static_cast<std::size_t>(page_count_) + 1),
      buffers_(static_cast<std::size_t>(page_count_) + 1),
      spine_(static_cast<std::size_t>(page_count_) + 1) {
  // Every node holds a page and every buffer a node, so page_count_ of each
  // is enough and only pages can run out.
  for (std::uint32_t p = 0; p < page_count_; ++p) page_next_[p] = p + 1 < page_count_ ? p + 1 : kNoPage;
  free_page_ = page_count_ > 0 ? 0 : kNoPage;
  for (std::uint32_t i = 1; i <= page_count_; ++i) {
    nodes_[i].next = i < page_count_ ? i + 1 : kNil;
    buffers_[i].root = i < page_count_ ? i + 1 : kNil;
  }
  free_node_ = page_count_ > 0 ? 1 : kNil;
  free_buffer_ = free_node_;
}

std::uint32_t SegmentStore::next_prio() noexcept {
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 17;
  rng_ ^= rng_ << 5;
  return rng_;
}

void SegmentStore::set_pages_in_use() noexcept {
  const std::uint64_t in_use = page_count_ - pages_free_;
  counters_.pages_in_use.set(in_use);
  if (in_use > counters_.pages_high_water.get()) counters_.pages_high_water.set(in_use);
}

std::uint32_t SegmentStore::open() noexcept {
  const std::uint32_t b = free_buffer_;
  if (b == kNil) return kNil;
  free_buffer_ = buffers_[b].root;
  buffers_[b] = Buffer{kNil, kNil, kNil, 0, 0};
  return b;
}

void SegmentStore::close(std::uint32_t buf) noexcept {
  std::uint32_t n = buffers_[buf].first;
  while (n != kNil) {
    const std::uint32_t next_node = nodes_[n].next;
    free_node(buf, n);
    n = next_node;
  }
  buffers_[buf] = Buffer{free_buffer_, kNil, kNil, 0, 0};
  free_buffer_ = buf;
}

std::uint32_t SegmentStore::floor(std::uint32_t buf, std::uint64_t off) noexcept {
  std::uint32_t t = buffers_[buf].root;
  std::uint32_t best = kNil;
  while (t != kNil) {
    ++steps_;
    if (nodes_[t].start <= off) {
      best = t;
      t = nodes_[t].right;
    } else {
      t = nodes_[t].left;
    }
  }
  return best;
}

// Nodes starting below key go to l, the rest to r. Iterative: the depth is
// random, and the datapath has no business recursing on it.
void SegmentStore::split(std::uint32_t t, std::uint64_t key, std::uint32_t& l, std::uint32_t& r) noexcept {
  std::uint32_t* lp = &l;
  std::uint32_t* rp = &r;
  while (t != kNil) {
    ++steps_;
    if (nodes_[t].start < key) {
      *lp = t;
      lp = &nodes_[t].right;
      t = nodes_[t].right;
    } else {
      *rp = t;
      rp = &nodes_[t].left;
      t = nodes_[t].left;
    }
  }
  *lp = kNil;
  *rp = kNil;
}

// Every key of a is below every key of b.
std::uint32_t SegmentStore::merge(std::uint32_t a, std::uint32_t b) noexcept {
  std::uint32_t root = kNil;
  std::uint32_t* link = &root;
  while (a != kNil && b != kNil) {
    ++steps_;
    if (nodes_[a].prio >= nodes_[b].prio) {
      *link = a;
      link = &nodes_[a].right;
      a = nodes_[a].right;
    } else {
      *link = b;
      link = &nodes_[b].left;
      b = nodes_[b].left;
    }
  }
  *link = a != kNil ? a : b;
  return root;
}

void SegmentStore::begin_range(std::uint32_t buf, std::uint64_t a, std::uint64_t b) noexcept {
  std::uint32_t rest = kNil;
  std::uint32_t middle = kNil;
  split(buffers_[buf].root, a, range_left_, rest);
  split(rest, b, middle, range_right_);
  buffers_[buf].root = kNil;
  spine_size_ = 0;
}

// One step of the linear-time treap build from nodes in key order: the right
// spine is a stack of decreasing priority; a node pops the lower ones off it
// and takes the last popped as its left subtree.
void SegmentStore::keep(std::uint32_t n) noexcept {
  ++steps_;
  std::uint32_t last = kNil;
  while (spine_size_ > 0 && nodes_[spine_[spine_size_ - 1]].prio < nodes_[n].prio) {
    last = spine_[--spine_size_];
  }
  nodes_[n].left = last;
  nodes_[n].right = kNil;
  if (spine_size_ > 0) nodes_[spine_[spine_size_ - 1]].right = n;
  spine_[spine_size_++] = n;
}

void SegmentStore::end_range(std::uint32_t buf) noexcept {
  const std::uint32_t run = spine_size_ > 0 ? spine_[0] : kNil;
  buffers_[buf].root = merge(merge(range_left_, run), range_right_);
  range_left_ = kNil;
  range_right_ = kNil;
  spine_size_ = 0;
}

std::uint32_t SegmentStore::add(std::uint32_t buf, std::uint32_t prev, std::uint64_t start,
                                std::span<const std::uint8_t> data, std::uint64_t ts_ns) noexcept {
  const auto len = static_cast<std::uint32_t>(data.size());
  const auto count = static_cast<std::uint32_t>(pages_for(len));
  if (free_node_ == kNil || count == 0 || pages_free_ < count || len > max_node_bytes()) return kNil;
  const std::uint32_t n = free_node_;
  free_node_ = nodes_[n].next;
  // The node's chain is the first `count` pages of the free list.
  const std::uint32_t head = free_page_;
  std::uint32_t page = head;
  std::size_t done = 0;
  for (std::uint32_t i = 0;; ++i) {
    const std::size_t take = std::min<std::size_t>(page_size_, len - done);
    std::memcpy(page_data(page), data.data() + done, take);
    done += take;
    if (i + 1 == count) break;
    page = page_next_[page];
  }
  free_page_ = page_next_[page];
  page_next_[page] = kNoPage;
  pages_free_ -= count;

  Buffer& b = buffers_[buf];
  Node& x = nodes_[n];
  x = Node{start, ts_ns, len, head, kNil, kNil, next_prio(), kNil, n, n};
  if (prev != kNil) {
    x.next = nodes_[prev].next;
    nodes_[prev].next = n;
  } else {
    x.next = b.first;
    b.first = n;
  }
  if (b.oldest == kNil) {
    b.oldest = n;
  } else {  // newest goes just before the oldest in the ring
    const std::uint32_t newest = nodes_[b.oldest].age_prev;
    x.age_prev = newest;
    x.age_next = b.oldest;
    nodes_[newest].age_next = n;
    nodes_[b.oldest].age_prev = n;
  }
  b.pages += count;
  b.bytes += len;
  set_pages_in_use();
  keep(n);
  return n;
}

void SegmentStore::free_node(std::uint32_t buf, std::uint32_t n) noexcept {
  Buffer& b = buffers_[buf];
  Node& x = nodes_[n];
  if (x.age_next == n) {
    b.oldest = kNil;
  } else {
    nodes_[x.age_prev].age_next = x.age_next;
    nodes_[x.age_next].age_prev = x.age_prev;
    if (b.oldest == n) b.oldest = x.age_next;
  }
  const auto count = static_cast<std::uint32_t>(pages_for(x.len));
  std::uint32_t tail = x.first_page;
  for (std::uint32_t i = 1; i < count; ++i) tail = page_next_[tail];
  page_next_[tail] = free_page_;
  free_page_ = x.first_page;
  pages_free_ += count;
  b.pages -= count;
  b.bytes -= x.len;
  x.next = free_node_;
  free_node_ = n;
  set_pages_in_use();
}

std::uint32_t SegmentStore::release_below(std::uint32_t buf, std::uint64_t off) noexcept {
  Buffer& b = buffers_[buf];
  std::uint32_t below = kNil;
  std::uint32_t rest = kNil;
  split(b.root, off, below, rest);
  b.root = rest;
  std::uint32_t n = b.first;
  while (n != kNil && nodes_[n].start < off) {
    ++steps_;
    const std::uint32_t next_node = nodes_[n].next;
    free_node(buf, n);
    n = next_node;
  }
  b.first = n;
  if (n != kNil) return buf;
  close(buf);
  return kNil;
}

std::uint32_t SegmentStore::count_diff(std::uint32_t node, std::uint32_t rel, const std::uint8_t* src,
                                       std::uint32_t n) const noexcept {
  std::uint32_t diff = 0;
  read(node, rel, n, [&](std::span<const std::uint8_t> s) {
    if (std::memcmp(s.data(), src, s.size()) != 0) {
      for (std::size_t i = 0; i < s.size(); ++i) diff += s[i] != src[i] ? 1 : 0;
    }
    src += s.size();
  });
  return diff;
}

void SegmentStore::write(std::uint32_t node, std::uint32_t rel, const std::uint8_t* src, std::uint32_t n) noexcept {
  for_pages(node, rel, n, [&](std::uint8_t* p, std::uint32_t len) {
    std::memcpy(p, src, len);
    src += len;
  });
}

namespace {

struct Walk {
  std::uint32_t count = 0;
  std::uint32_t next_expected = SegmentStore::kNil;  // in-order must match the offset list
  bool ok = true;
};

}  // namespace

bool SegmentStore::check(std::uint32_t buf) const noexcept {
  const Buffer& b = buffers_[buf];
  // Offset list: increasing, non-overlapping, counts add up.
  std::uint32_t count = 0;
  std::uint64_t pages = 0;
  std::uint64_t bytes = 0;
  std::uint64_t prev_end = 0;
  for (std::uint32_t n = b.first; n != kNil; n = nodes_[n].next) {
    if (count > page_count_ || nodes_[n].len == 0) return false;
    if (count > 0 && nodes_[n].start < prev_end) return false;
    prev_end = end(n);
    pages += pages_for(nodes_[n].len);
    bytes += nodes_[n].len;
    ++count;
  }
  if (pages != b.pages || bytes != b.bytes) return false;
  // Treap: in-order equals the list, parents outrank children.
  Walk w;
  w.next_expected = b.first;
  auto visit = [&](auto& self, std::uint32_t t, std::uint32_t depth) -> void {
    if (t == kNil || !w.ok) return;
    if (depth > page_count_ + 1) {
      w.ok = false;
      return;
    }
    const Node& x = nodes_[t];
    if ((x.left != kNil && nodes_[x.left].prio > x.prio) || (x.right != kNil && nodes_[x.right].prio > x.prio)) {
      w.ok = false;
      return;
    }
    self(self, x.left, depth + 1);
    if (t != w.next_expected) w.ok = false;
    w.next_expected = w.ok ? x.next : kNil;
    ++w.count;
    self(self, x.right, depth + 1);
  };
  visit(visit, b.root, 0);
  if (!w.ok || w.count != count) return false;
  // Arrival ring: every node once, links both ways.
  std::uint32_t ring = 0;
  if (b.oldest != kNil) {
    std::uint32_t n = b.oldest;
    do {
      if (nodes_[nodes_[n].age_next].age_prev != n || ++ring > count) return false;
      n = nodes_[n].age_next;
    } while (n != b.oldest);
  }
  return ring == count;
}

}  // namespace sf
