// When a ready session wakes up: the SSH keepalive and the idle-connection check share one timer.
#include <doctest/doctest.h>

#include "ssh/settings.hpp"

using namespace std::chrono_literals;
using dvpn::ssh::SessionSettings;
using dvpn::ssh::tick_interval;

namespace {
SessionSettings with(std::chrono::milliseconds keepalive, std::chrono::milliseconds idle) {
  SessionSettings s;
  s.keepalive = keepalive;
  s.connection_idle_timeout = idle;
  return s;
}
}  // namespace

TEST_CASE("the keepalive sets the tick when idle connections are checked less often") {
  CHECK(tick_interval(with(15s, 2h)) == 15s);
}

TEST_CASE("a short idle timeout ticks at half of it, so an idle connection ends at most half late") {
  CHECK(tick_interval(with(15s, 4s)) == 2s);
}

TEST_CASE("either alone sets the tick; neither means no timer") {
  CHECK(tick_interval(with(0ms, 10s)) == 5s);
  CHECK(tick_interval(with(15s, 0ms)) == 15s);
  CHECK(tick_interval(with(0ms, 0ms)) == 0ms);
}
