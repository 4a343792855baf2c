#include "window_plan.hpp"

#include <algorithm>

namespace dvpn::ssh::window {
namespace {
constexpr std::size_t min_read = 8 * 1024;
constexpr std::size_t max_read = 64 * 1024;  // the session's scratch buffer
}  // namespace

std::size_t read_size(std::uint32_t target) { return std::clamp<std::size_t>(target / 4, min_read, max_read); }

std::uint64_t holdable(std::uint32_t target) {
  const std::uint64_t read = read_size(target);
  return std::max<std::uint64_t>(target, floor_window + read) + read;
}

std::uint64_t charge(std::uint32_t target) { return holdable(std::max(target, floor_window)) - holdable(floor_window); }

std::uint32_t next_target(std::uint32_t target, std::uint64_t delivered, std::chrono::microseconds elapsed,
                          std::chrono::microseconds rtt, std::uint32_t max) {
  if (target >= max || elapsed.count() <= 0) return target;
  // delivered / elapsed >= (target / rtt) / 2, without dividing.
  const double rate_share = static_cast<double>(delivered) * static_cast<double>(rtt.count());
  if (rate_share * 2 < static_cast<double>(target) * static_cast<double>(elapsed.count())) return target;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(std::uint64_t{target} * 2, max));
}

std::uint32_t max_window(std::uint32_t window_size, bool carrier) {
  return carrier ? window_size + window_size / 32 : window_size;
}

std::uint32_t top_up(std::uint32_t target, std::uint64_t committed) {
  if (committed * 4 >= std::uint64_t{target} * 3) return 0;
  return static_cast<std::uint32_t>(target - committed);
}

bool Budget::take(std::uint64_t n) {
  std::uint64_t used = used_.load(std::memory_order_relaxed);
  do {
    if (n > capacity_ - std::min(used, capacity_)) return false;
  } while (!used_.compare_exchange_weak(used, used + n, std::memory_order_relaxed));
  return true;
}

void Budget::give(std::uint64_t n) { used_.fetch_sub(n, std::memory_order_relaxed); }

}  // namespace dvpn::ssh::window
