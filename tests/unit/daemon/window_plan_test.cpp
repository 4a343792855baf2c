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

TEST_CASE("a window doubles only when the far end used more than half of it, up to the maximum") {
  const std::uint32_t max = 4u << 20;
  CHECK(next_target(256 * 1024, 10 * 1024, max) == 512 * 1024);    // nearly all used: the window limits
  CHECK(next_target(256 * 1024, 128 * 1024, max) == 256 * 1024);   // half left: the path or the sender limits
  CHECK(next_target(256 * 1024, 200 * 1024, max) == 256 * 1024);
  CHECK(next_target(3u << 20, 0, max) == max);                     // capped, not doubled past it
  CHECK(next_target(max, 0, max) == max);
  CHECK(next_target(8u << 20, 0, max) == 8u << 20);                // never shrunk by the policy
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
