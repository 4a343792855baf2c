#include "route_table.hpp"

#include <algorithm>
#include <bit>
#include <tuple>

namespace dvpn::hostsdb {
namespace {

std::uint64_t load_be64(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}

// The mask of the first `bits` bits of a 64-bit half (bits clamped to 0-64).
std::uint64_t half_mask(int bits) noexcept {
  if (bits <= 0) return 0;
  if (bits >= 64) return ~std::uint64_t{0};
  return ~std::uint64_t{0} << (64 - bits);
}

// splitmix64's finalizer over both halves: masked networks differ in few
// bits (10.0.3.0 vs 10.0.4.0), so the slot index must mix all of them.
std::uint64_t slot_hash(std::uint64_t hi, std::uint64_t lo) noexcept {
  std::uint64_t x = hi * 0x9e3779b97f4a7c15u ^ lo;
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9u;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebu;
  return x ^ (x >> 31);
}

// One subnet of one site, before duplicates are settled.
struct Claim {
  int length128;
  std::uint64_t hi;
  std::uint64_t lo;
  std::uint32_t site;
  std::uint32_t subnet;  // index in the site's subnets
};

struct Loser {
  std::uint32_t site;
  std::uint32_t subnet;
  std::uint32_t winner;
};

}  // namespace

RouteTable::Level RouteTable::make_level(int length128, std::span<const Entry> entries) {
  Level level;
  level.mask_hi = level.same_hi = half_mask(length128);
  level.mask_lo = level.same_lo = half_mask(length128 - 64);
  for (const auto& e : entries) {
    level.same_hi &= ~(e.hi ^ entries[0].hi);
    level.same_lo &= ~(e.lo ^ entries[0].lo);
  }
  level.value_hi = entries[0].hi & level.same_hi;
  level.value_lo = entries[0].lo & level.same_lo;
  auto vary_hi = level.mask_hi & ~level.same_hi;
  auto vary_lo = level.mask_lo & ~level.same_lo;
  if (vary_hi == 0 || vary_lo == 0) {
    auto vary = vary_hi == 0 ? vary_lo : vary_hi;
    int shift = vary == 0 ? 0 : std::countr_zero(vary);
    level.narrow = (vary >> shift) <= 0xffffffffu;
    level.window_in_lo = vary_hi == 0;
    level.window_shift = shift;
  }
  // At most half full, so every probe reaches an empty slot and stays short.
  auto slot_count = std::bit_ceil(2 * entries.size());
  level.slot_mask = slot_count - 1;
  if (level.narrow) {
    level.narrow_slots.resize(slot_count);
    for (const auto& e : entries) {
      auto key = narrow_key(level, e.hi, e.lo);
      auto slot = slot_hash(0, key) & level.slot_mask;
      while (level.narrow_slots[slot].site != no_site) slot = (slot + 1) & level.slot_mask;
      level.narrow_slots[slot] = {key, e.site};
    }
  } else {
    level.slots.resize(slot_count);
    for (const auto& e : entries) {
      auto slot = slot_hash(e.hi, e.lo) & level.slot_mask;
      while (level.slots[slot].site != no_site) slot = (slot + 1) & level.slot_mask;
      level.slots[slot] = e;
    }
  }
  return level;
}

RouteTable RouteTable::build(std::vector<Site> sites, Diagnostics& diags) {
  RouteTable table;
  std::vector<Claim> claims;
  claims.reserve(sites.size());
  for (std::uint32_t s = 0; s < sites.size(); ++s) {
    for (std::uint32_t n = 0; n < sites[s].subnets.size(); ++n) {
      const auto& prefix = sites[s].subnets[n];
      int length = prefix.length128();
      const auto* b = prefix.network.bytes.data();
      claims.push_back({length, load_be64(b) & half_mask(length),
                        load_be64(b + 8) & half_mask(length - 64), s, n});
    }
  }
  // Stable, so within one prefix the claim read first comes first and wins.
  auto key = [](const Claim& c) { return std::tuple(-c.length128, c.hi, c.lo); };
  std::stable_sort(claims.begin(), claims.end(),
                   [&](const Claim& a, const Claim& b) { return key(a) < key(b); });

  std::vector<Loser> losers;
  std::vector<Entry> group;       // winners of the current prefix length
  const Claim* winner = nullptr;  // first claim of the current prefix
  for (const auto& c : claims) {
    if (winner && key(*winner) == key(c)) {
      // A site never loses to itself (the parser drops repeats on one line).
      if (winner->site != c.site) losers.push_back({c.site, c.subnet, winner->site});
      continue;
    }
    if (winner && winner->length128 != c.length128) {
      table.levels_.push_back(make_level(winner->length128, group));
      group.clear();
    }
    winner = &c;
    group.push_back({c.hi, c.lo, c.site});
  }
  if (winner) table.levels_.push_back(make_level(winner->length128, group));

  // Warnings in reading order; lost subnets leave the site so sites() shows
  // exactly what routes to it.
  std::sort(losers.begin(), losers.end(), [](const Loser& a, const Loser& b) {
    return std::tie(a.site, a.subnet) < std::tie(b.site, b.subnet);
  });
  for (const auto& l : losers) {
    const auto& winner = sites[l.winner];
    diags.push_back({Diagnostic::Severity::warning, sites[l.site].origin,
                     "subnet " + sites[l.site].subnets[l.subnet].to_string() +
                         " is already claimed by " + quote(winner.name) + " at " + winner.origin +
                         ", expected each subnet in one site only; ignored here"});
  }
  for (auto it = losers.rbegin(); it != losers.rend(); ++it) {
    auto& subnets = sites[it->site].subnets;
    subnets.erase(subnets.begin() + it->subnet);
  }
  table.sites_ = std::move(sites);
  return table;
}

const Site* RouteTable::lookup(const Ip& ip) const noexcept {
  std::uint64_t hi = load_be64(ip.bytes.data());
  std::uint64_t lo = load_be64(ip.bytes.data() + 8);
  for (const auto& level : levels_) {
    std::uint64_t khi = hi & level.mask_hi;
    std::uint64_t klo = lo & level.mask_lo;
    if ((khi & level.same_hi) != level.value_hi || (klo & level.same_lo) != level.value_lo)
      continue;
    if (level.narrow) {
      // The shared bits matched above, so the window alone decides.
      auto key = narrow_key(level, khi, klo);
      for (auto slot = slot_hash(0, key) & level.slot_mask;; slot = (slot + 1) & level.slot_mask) {
        const NarrowEntry& e = level.narrow_slots[slot];
        if (e.site == no_site) break;
        if (e.key == key) return &sites_[e.site];
      }
      continue;
    }
    for (auto slot = slot_hash(khi, klo) & level.slot_mask;; slot = (slot + 1) & level.slot_mask) {
      const Entry& e = level.slots[slot];
      if (e.site == no_site) break;
      if (e.hi == khi && e.lo == klo) return &sites_[e.site];
    }
  }
  return nullptr;
}

}  // namespace dvpn::hostsdb
