// Receive windows: what they can hold, when they grow, and the budget they
// grow from (daemon/ssh/window_plan.hpp).
#include "ssh/window_plan.hpp"

#include <doctest/doctest.h>

#include <thread>
#include <vector>

using namespace dvpn::ssh::window;

TEST_CASE("a floor window costs the budget nothing, and a bigger one what it can hold beyond it") {
  CHECK(charge(floor_window) == 0);
  CHECK(charge(0) == 0);
  // 16 KiB reads at 64 KiB: libssh2 refills to 16+16 KiB, below the target.
  CHECK(holdable(64 * 1024) == (64 + 16) * 1024);
  CHECK(charge(64 * 1024) == holdable(64 * 1024) - holdable(floor_window));
  // A floor window reads 8 KiB at a time: libssh2's refill (16+8) is what it holds, plus one read kept back.
  CHECK(holdable(floor_window) == (16 + 8 + 8) * 1024);
  // Reads never exceed the session's 64 KiB scratch buffer.
  CHECK(read_size(4u << 20) == 64 * 1024);
  CHECK(holdable(4u << 20) == (4u << 20) + 64 * 1024);
}

TEST_CASE("a window doubles when the far end sends at least half its window per round trip, up to the maximum") {
  using us = std::chrono::microseconds;
  const std::uint32_t max = 4u << 20;
  const us rtt{50'000};
  // One window per round trip: the window limits the stream.
  CHECK(next_target(256 * 1024, 256 * 1024, rtt, rtt, max) == 512 * 1024);
  // Half of it, measured over two round trips: still the window's doing.
  CHECK(next_target(256 * 1024, 256 * 1024, 2 * rtt, rtt, max) == 512 * 1024);
  // Less than half per round trip: the path or the sender limits.
  CHECK(next_target(256 * 1024, 100 * 1024, rtt, rtt, max) == 256 * 1024);
  // A LAN: 0.1 ms round trips, 1 MB in 10 ms is far below 256 KiB per 0.1 ms.
  CHECK(next_target(256 * 1024, 1'000'000, us{10'000}, us{100}, max) == 256 * 1024);
  CHECK(next_target(3u << 20, 4u << 20, rtt, rtt, max) == max);  // capped, not doubled past it
  CHECK(next_target(max, max, rtt, rtt, max) == max);
  CHECK(next_target(8u << 20, 8u << 20, rtt, rtt, max) == 8u << 20);  // never shrunk by the policy
  CHECK(next_target(256 * 1024, 256 * 1024, us{0}, rtt, max) == 256 * 1024);
}

TEST_CASE("a relay's carrier may grow past one channel's window by the carried packets' framing") {
  CHECK(max_window(4u << 20, false) == 4u << 20);
  CHECK(max_window(4u << 20, true) == (4u << 20) + (128u << 10));
  // Per 32 KiB of carried data at most 4 (length) + 1 (padding length) + 255
  // (padding) + 64 (MAC) + 9 (message, channel, length) bytes of framing.
  constexpr std::uint64_t per_packet = 4 + 1 + 255 + 64 + 9;
  for (std::uint32_t size : {32u << 10, 1u << 20, 4u << 20, 16u << 20})
    CHECK(max_window(size, true) >= size + size / (32 * 1024) * per_packet);
}

TEST_CASE("a window is topped up once it falls below three quarters of the target") {
  CHECK(top_up(256 * 1024, 256 * 1024) == 0);
  CHECK(top_up(256 * 1024, 192 * 1024) == 0);
  CHECK(top_up(256 * 1024, 191 * 1024) == 65 * 1024);
  CHECK(top_up(256 * 1024, 0) == 256 * 1024);
  // libssh2's own refill can leave more than a small target: nothing to add.
  CHECK(top_up(floor_window, 24 * 1024) == 0);
}

TEST_CASE("the budget gives all or nothing and takes back what it gave") {
  Budget budget(1000);
  CHECK(budget.take(600));
  CHECK_FALSE(budget.take(401));
  CHECK(budget.used() == 600);
  CHECK(budget.take(400));
  CHECK_FALSE(budget.take(1));
  budget.give(600);
  CHECK(budget.used() == 400);
  CHECK(budget.take(600));
  Budget none(0);
  CHECK(none.take(0));
  CHECK_FALSE(none.take(1));
}

TEST_CASE("the budget is never overdrawn by threads taking at once") {
  Budget budget(10'000);
  std::vector<std::thread> threads;
  std::atomic<int> granted{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i)
        if (budget.take(3)) ++granted;
    });
  for (auto& t : threads) t.join();
  CHECK(granted.load() == 3333);
  CHECK(budget.used() == 9999);
}
