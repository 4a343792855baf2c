#pragma once
// How big a channel's receive window is, and the gateway-wide budget windows
// grow from (limits.buffer_budget).
//
// Every byte a far end may send that the client has not taken yet sits in
// dvpnd's memory: in libssh2's queue, or in a Tunnel's remainder. So a
// window is memory, and a client that never reads holds all of its window.
// A channel opens with a small window (`floor_window`) that no budget is asked for,
// asks for `first_target` once it is open, and then doubles while its client
// keeps up and, over a round trip, the far end sends at least half of what
// the window allows per round trip (the window, not the path, limits the
// stream: the path's bandwidth-delay product is larger), up to
// ssh.window_size, while the budget has room. A
// grown window stays until the channel ends: the far end may use it at any
// time. Memory for channel data therefore stays below about
//     limits.buffer_budget + connections x holdable(floor_window)
// and a new channel's open never queues behind more in-flight data than the
// budget allows.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace dvpn::ssh::window {

inline constexpr std::uint32_t floor_window = 16 * 1024;
inline constexpr std::uint32_t first_target = 256 * 1024;

// How much one libssh2_channel_read asks for: libssh2 1.10 re-opens a
// window up to its initial size plus the read's length, so small windows
// read in small pieces.
std::size_t read_size(std::uint32_t target);
// The most a channel with this window can hold while its client reads
// nothing: the window (or libssh2's own refill) plus one read kept back.
std::uint64_t holdable(std::uint32_t target);
// What a window costs the budget: what it can hold beyond a floor window.
std::uint64_t charge(std::uint32_t target);
// A round trip to measure over when the session's is not known (a session
// carried through a relay): long enough for most paths.
inline constexpr std::chrono::microseconds assumed_rtt{100'000};
// The target after `elapsed` (at least a round trip, `rtt`) in which the
// client took every byte and the far end sent `delivered`: doubled when
// that is at least half the window-limited rate, target per round trip.
std::uint32_t next_target(std::uint32_t target, std::uint64_t delivered, std::chrono::microseconds elapsed,
                          std::chrono::microseconds rtt, std::uint32_t max);
// The most a channel's window grows to: `window_size`, or for a relay's
// carrier channel, which carries a whole session, that plus 1/32 for the
// carried session's own packet framing and MACs.
std::uint32_t max_window(std::uint32_t window_size, bool carrier);
// Bytes to add to the window so that window plus unread bytes (`committed`)
// make the target again; 0 while it is above three quarters of it.
std::uint32_t top_up(std::uint32_t target, std::uint64_t committed);

// Shared by every session's channels, on any thread.
class Budget {
 public:
  explicit Budget(std::uint64_t capacity) : capacity_(capacity) {}
  bool take(std::uint64_t n);  // all of n, or nothing
  void give(std::uint64_t n);
  std::uint64_t used() const { return used_.load(std::memory_order_relaxed); }
  std::uint64_t capacity() const { return capacity_; }

 private:
  const std::uint64_t capacity_;
  std::atomic<std::uint64_t> used_{0};
};

}  // namespace dvpn::ssh::window
