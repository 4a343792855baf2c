#pragma once
// The longest-prefix route table: an immutable value built once per (re)load
// and shared by pointer, so connections keep the table they started with.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "diagnostic.hpp"
#include "site.hpp"

namespace dvpn::hostsdb {

class RouteTable {
 public:
  RouteTable() = default;

  // Builds the table from sites in reading order. A prefix claimed twice keeps
  // the first site and adds a warning naming both origins.
  static RouteTable build(std::vector<Site> sites, Diagnostics& diags);

  // The site whose subnet is the longest prefix containing `ip` (IPv4 and IPv6
  // compete in one 128-bit space), or nullptr. Never allocates.
  const Site* lookup(const Ip& ip) const noexcept;

  const std::vector<Site>& sites() const noexcept { return sites_; }
  std::size_t size() const noexcept { return sites_.size(); }

 private:
  // Defined here, not in the .cpp: the implicit copy/move/destructor that
  // users of RouteTable instantiate need the complete types.
  static constexpr std::uint32_t no_site = ~std::uint32_t{0};
  struct Entry {  // a masked network, as two big-endian halves, and its site
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
    std::uint32_t site = no_site;  // no_site: an empty slot
  };
  struct NarrowEntry {  // the same, when the network's varying bits fit 32 bits
    std::uint32_t key = 0;
    std::uint32_t site = no_site;
  };
  // All entries of one prefix length, in an open-addressing hash table: one
  // probe per length instead of a binary search's chain of cache misses.
  struct Level {
    std::uint64_t mask_hi = 0;  // the prefix length as a mask
    std::uint64_t mask_lo = 0;
    // Bits every entry of this level shares (e.g. ::ffff:0:0/96 for IPv4),
    // so a query of the other family skips the level without a probe.
    std::uint64_t same_hi = 0;
    std::uint64_t same_lo = 0;
    std::uint64_t value_hi = 0;
    std::uint64_t value_lo = 0;
    std::uint64_t slot_mask = 0;  // slot count - 1, a power of two minus one
    // When the bits that differ between entries lie in one 32-bit window
    // (always so for IPv4, whose networks differ only in their last 32 bits),
    // slots shrink from 24 to 8 bytes: a third of the memory, so lookups
    // miss the cache far less.
    bool narrow = false;
    bool window_in_lo = false;
    int window_shift = 0;
    std::vector<NarrowEntry> narrow_slots;
    std::vector<Entry> slots;  // when not narrow
  };
  // A masked network's bits inside a narrow level's window; the bits outside
  // it are the level's shared bits, checked separately.
  static std::uint32_t narrow_key(const Level& level, std::uint64_t hi, std::uint64_t lo) noexcept {
    return static_cast<std::uint32_t>((level.window_in_lo ? lo : hi) >> level.window_shift);
  }

  // One level's hash table from its entries (distinct, all of one length).
  static Level make_level(int length128, std::span<const Entry> entries);

  std::vector<Site> sites_;
  std::vector<Level> levels_;  // longest prefix length first
};

using RouteTablePtr = std::shared_ptr<const RouteTable>;

}  // namespace dvpn::hostsdb
