// The health of a site's paths: only probes judge, real failures ask for
// one, and new connections go to the first path neither failing nor
// unhealthy.
#include "pool/health.hpp"

#include <doctest/doctest.h>

#include <set>

using dvpn::SshPath;
using dvpn::Target;
using dvpn::pool::Clock;
using dvpn::pool::Duration;
using dvpn::pool::Evidence;
using dvpn::pool::HealthBook;
using dvpn::pool::Reach;

namespace {

const Duration interval{2000};
const std::vector<SshPath> paths = {{std::nullopt, {"dvpn", "gwc", 22}}, {std::nullopt, {"dvpn", "gwb", 22}}};
const Evidence reached{Reach::reached, {}};
const Evidence no_route{Reach::unreachable, "exit 1: nc: No route to host"};
const Evidence unknown{};

Target to(const char* ip, std::uint16_t port) {
  Target target;
  target.ip = *dvpn::hostsdb::Ip::parse(ip);
  target.port = port;
  target.paths = paths;
  return target;
}

// Which paths are failing (no session, the last handshake failed).
HealthBook::Failing failing(std::set<std::size_t> which) {
  return [which](const SshPath& p) {
    for (std::size_t i : which)
      if (p == paths[i]) return true;
    return false;
  };
}

}  // namespace

TEST_CASE("a path broken from the start: its first failure is probed towards that destination, and judged") {
  HealthBook book(interval);
  const auto t0 = Clock::now();
  book.used("s", paths, t0);
  CHECK(book.choose("s", paths, failing({})) == 0);
  auto probe = book.connection_ended("s", paths[0], to("10.21.0.2", 80), no_route, t0);
  REQUIRE(probe);
  CHECK(probe->path == paths[0]);
  CHECK(probe->target.ip.to_string() == "10.21.0.2");
  CHECK(probe->target.paths == std::vector<SshPath>{paths[0]});  // no fallback for a probe
  CHECK(probe->target.site == nullptr);
  // Still the first path until the probe says otherwise.
  CHECK_FALSE(book.unhealthy("s", paths[0]));
  // A second failure while the probe runs asks for none.
  CHECK_FALSE(book.connection_ended("s", paths[0], to("10.21.0.2", 80), no_route, t0));

  auto change = book.probe_ended("s", paths[0], no_route);
  REQUIRE(change);
  CHECK(change->unhealthy);
  CHECK(change->why == "far end cannot reach 10.21.0.2 port 80: exit 1: nc: No route to host");
  CHECK(book.unhealthy("s", paths[0]));
  CHECK(book.choose("s", paths, failing({})) == 1);
  // Judged again with the same verdict: no new change to log.
  CHECK_FALSE(book.probe_ended("s", paths[0], no_route));
}

TEST_CASE("probes go to the last destination that answered, not to the dead host that failed") {
  HealthBook book(interval);
  const auto t0 = Clock::now();
  book.used("s", paths, t0);
  CHECK_FALSE(book.connection_ended("s", paths[0], to("10.21.0.2", 80), reached, t0));
  auto probe = book.connection_ended("s", paths[0], to("10.21.0.77", 22), no_route, t0);
  REQUIRE(probe);
  CHECK(probe->target.ip.to_string() == "10.21.0.2");
  CHECK(probe->target.port == 80);
  // The host answers: the path stays healthy, nothing to log.
  CHECK_FALSE(book.probe_ended("s", paths[0], reached));
  CHECK_FALSE(book.unhealthy("s", paths[0]));
}

TEST_CASE("real failures ask for a probe at most once a second per path") {
  HealthBook book(interval);
  const auto t0 = Clock::now();
  book.used("s", paths, t0);
  REQUIRE(book.connection_ended("s", paths[0], to("10.21.0.2", 80), no_route, t0));
  CHECK_FALSE(book.probe_ended("s", paths[0], unknown));  // no verdict: nothing changes
  CHECK_FALSE(book.connection_ended("s", paths[0], to("10.21.0.2", 80), no_route, t0 + Duration(500)));
  CHECK(book.connection_ended("s", paths[0], to("10.21.0.2", 80), no_route, t0 + Duration(1000)));
  // A real success never turns a path healthy: it may have started before the break.
}

TEST_CASE("the tick probes the path in use and the unhealthy ones before it, every probe_interval") {
  HealthBook book(interval);
  const auto t0 = Clock::now();
  book.used("s", paths, t0);
  // No destination known yet: nothing to probe.
  CHECK(book.due(t0 + interval, failing({})).empty());
  book.connection_ended("s", paths[0], to("10.21.0.2", 80), reached, t0);

  auto probes = book.due(t0 + interval, failing({}));
  REQUIRE(probes.size() == 1);
  CHECK(probes[0].path == paths[0]);
  CHECK(book.due(t0 + 2 * interval, failing({})).empty());  // still running
  auto change = book.probe_ended("s", paths[0], no_route);
  REQUIRE(change);
  CHECK(book.choose("s", paths, failing({})) == 1);

  // Now path 2 is in use: both are probed; path 1 until it answers again.
  probes = book.due(t0 + 2 * interval, failing({}));
  REQUIRE(probes.size() == 2);
  CHECK(probes[0].path == paths[0]);
  CHECK(probes[1].path == paths[1]);
  CHECK_FALSE(book.probe_ended("s", paths[1], reached));
  change = book.probe_ended("s", paths[0], reached);
  REQUIRE(change);
  CHECK_FALSE(change->unhealthy);
  CHECK(book.choose("s", paths, failing({})) == 0);
  CHECK_FALSE(book.unhealthy("s", paths[0]));
}

TEST_CASE("a probe a real failure asked for between two ticks does not skip the next tick") {
  HealthBook book(interval);
  const auto t0 = Clock::now();
  book.used("s", paths, t0);
  REQUIRE(book.connection_ended("s", paths[0], to("10.21.0.2", 80), no_route, t0 + interval * 3 / 4));
  REQUIRE(book.probe_ended("s", paths[0], no_route));
  // The tick at 2 intervals probes path 1 again (and path 2, now in use).
  auto probes = book.due(t0 + 2 * interval, failing({}));
  REQUIRE(probes.size() == 2);
  CHECK(probes[0].path == paths[0]);
  book.probe_ended("s", paths[0], no_route);
  book.probe_ended("s", paths[1], reached);
  // Not twice within half an interval, though: path 1 was probed 500 ms ago.
  REQUIRE(book.connection_ended("s", paths[0], to("10.21.0.2", 80), no_route, t0 + 2 * interval + Duration(1000)));
  book.probe_ended("s", paths[0], no_route);
  probes = book.due(t0 + 2 * interval + Duration(1500), failing({}));
  REQUIRE(probes.size() == 1);
  CHECK(probes[0].path == paths[1]);
}

TEST_CASE("failing paths are the pool's to retry; the choice falls back when nothing is healthy") {
  HealthBook book(interval);
  const auto t0 = Clock::now();
  book.used("s", paths, t0);
  book.connection_ended("s", paths[1], to("10.21.0.2", 80), reached, t0);
  // Path 1 failing: path 2 is in use and the only one probed.
  auto probes = book.due(t0 + interval, failing({0}));
  REQUIRE(probes.size() == 1);
  CHECK(probes[0].path == paths[1]);
  REQUIRE(book.probe_ended("s", paths[1], no_route));
  // Path 1 failing, path 2 unhealthy: path 2, which has a session.
  CHECK(book.choose("s", paths, failing({0})) == 1);
  // Both failing: the first, as before.
  CHECK(book.choose("s", paths, failing({0, 1})) == 0);
  // Sites are separate: the same path may serve another site well.
  CHECK(book.choose("other", paths, failing({})) == 0);
}

TEST_CASE("a site quiet for probe_for is no longer probed, then forgotten") {
  HealthBook book(interval);
  const auto t0 = Clock::now();
  book.used("s", paths, t0);
  book.connection_ended("s", paths[0], to("10.21.0.2", 80), reached, t0);
  CHECK(book.any_active(t0 + HealthBook::probe_for - Duration(1)));
  CHECK_FALSE(book.any_active(t0 + HealthBook::probe_for));
  CHECK(book.due(t0 + HealthBook::probe_for, failing({})).empty());
  book.used("s", paths, t0 + HealthBook::probe_for);
  CHECK(book.due(t0 + HealthBook::probe_for + interval, failing({})).empty());  // no destination known any more
}
