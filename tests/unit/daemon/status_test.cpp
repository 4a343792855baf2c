#include <doctest/doctest.h>

#include "metrics/registry.hpp"
#include "status.hpp"

using namespace dvpn;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

TEST_CASE("age text: seconds, then minutes and seconds, hours and minutes, days and hours") {
  CHECK(age_text(0ms) == "0s");
  CHECK(age_text(999ms) == "0s");
  CHECK(age_text(45s) == "45s");
  CHECK(age_text(60s) == "1m0s");
  CHECK(age_text(3min + 12s + 900ms) == "3m12s");
  CHECK(age_text(59min + 59s) == "59m59s");
  CHECK(age_text(2h + 3min + 59s) == "2h3m");
  CHECK(age_text(23h + 59min) == "23h59m");
  CHECK(age_text(24h) == "1d0h");
  CHECK(age_text(4 * 24h + 6h + 30min) == "4d6h");
  CHECK(age_text(-5s) == "0s");
}

TEST_CASE("rtt text: milliseconds with the precision that matters") {
  CHECK(rtt_text(std::chrono::microseconds(87)) == "0.09ms");
  CHECK(rtt_text(std::chrono::microseconds(420)) == "0.42ms");
  CHECK(rtt_text(std::chrono::microseconds(9990)) == "9.99ms");
  CHECK(rtt_text(std::chrono::microseconds(12345)) == "12.3ms");
  CHECK(rtt_text(std::chrono::microseconds(230400)) == "230ms");
}

namespace {
const auto t0 = pool::Clock::time_point{} + 100h;

pool::Stats stats_of(unsigned sessions, unsigned ready) {
  pool::Stats s;
  s.endpoint = "dvpn@198.51.100.2:22";
  s.sessions = sessions;
  s.ready_sessions = ready;
  return s;
}
}  // namespace

TEST_CASE("a site without a pool is idle: no session needed yet") {
  const auto h = site_health("sited", "dvpn@203.0.113.9:22", 0, nullptr, t0);
  CHECK(h.state == SiteHealth::State::idle);
  CHECK(site_line(h) == "sited  idle  dvpn@203.0.113.9:22  conns 0  no session needed yet");
}

TEST_CASE("a site with a ready session is up: rtt, connections, for how long") {
  auto s = stats_of(2, 1);
  s.rtt = std::chrono::microseconds(420);
  s.up_since = t0 - (2h + 3min + 10s);
  const auto h = site_health("siteb", s.endpoint, 3, &s, t0);
  CHECK(h.state == SiteHealth::State::up);
  CHECK(site_line(h) == "siteb  up    dvpn@198.51.100.2:22  rtt 0.42ms  conns 3  up 2h3m");
  SUBCASE("padded to the widest site and path") {
    CHECK(site_line(h, 8, 24) == "siteb     up    dvpn@198.51.100.2:22      rtt 0.42ms  conns 3  up 2h3m");
  }
  SUBCASE("an earlier error stays visible, with its age") {
    s.last_error = "session 4 died";
    s.last_error_at = t0 - 50s;
    CHECK(site_line(site_health("siteb", s.endpoint, 3, &s, t0)) ==
          "siteb  up    dvpn@198.51.100.2:22  rtt 0.42ms  conns 3  up 2h3m  last error 50s ago: session 4 died");
  }
  SUBCASE("no RTT sample yet") {
    s.rtt.reset();
    CHECK(site_line(site_health("siteb", s.endpoint, 0, &s, t0)) ==
          "siteb  up    dvpn@198.51.100.2:22  rtt -  conns 0  up 2h3m");
  }
}

TEST_CASE("a site whose last session failed is down, with the error and its age") {
  auto s = stats_of(0, 0);
  s.failing = true;
  s.last_error = "cannot connect to 198.51.100.2:22: Connection refused";
  s.last_error_at = t0 - (3min + 12s);
  s.rtt = std::chrono::microseconds(500);  // stale: not shown when down
  const auto h = site_health("sitec", s.endpoint, 0, &s, t0);
  CHECK(h.state == SiteHealth::State::down);
  CHECK(site_line(h) == "sitec  down  dvpn@198.51.100.2:22  conns 0  last error 3m12s ago: cannot connect to "
                        "198.51.100.2:22: Connection refused");
  SUBCASE("still down while it retries") {
    s.sessions = 1;
    CHECK(site_health("sitec", s.endpoint, 0, &s, t0).state == SiteHealth::State::down);
  }
}

TEST_CASE("a first handshake under way is connecting; a pool whose sessions closed idle is idle again") {
  auto s = stats_of(1, 0);
  CHECK(site_health("siteb", s.endpoint, 1, &s, t0).state == SiteHealth::State::connecting);
  s = stats_of(0, 0);
  s.last_error = "old";
  s.last_error_at = t0 - 1h;
  const auto h = site_health("siteb", s.endpoint, 0, &s, t0);
  CHECK(h.state == SiteHealth::State::idle);
  CHECK(site_line(h) == "siteb  idle  dvpn@198.51.100.2:22  conns 0  no session needed yet  last error 1h0m ago: old");
}

TEST_CASE("status text leads with the site lines; JSON carries them in site_health") {
  StatusSnapshot snap;
  snap.sites = 2;
  auto s = stats_of(1, 1);
  s.rtt = std::chrono::microseconds(1500);
  s.up_since = t0 - 5s;
  snap.gateways.push_back(s);
  snap.site_health.push_back(site_health("siteb", s.endpoint, 1, &snap.gateways[0], t0));
  snap.site_health.push_back(site_health("site-long", "u@[fd00::3]:22", 0, nullptr, t0));
  const std::string text = status_text(snap);
  CHECK(text.rfind("siteb      up    dvpn@198.51.100.2:22  rtt 1.50ms  conns 1  up 5s\n"
                   "site-long  idle  u@[fd00::3]:22        conns 0  no session needed yet\n\n"
                   "connections: 0 live; sites: 2; gateways in use: 1\n",
                   0) == 0);
  const std::string json = status_json(snap);
  CHECK(json.find("\"sites\":2,") != std::string::npos);
  CHECK(json.find("\"site_health\":[{\"site\":\"siteb\",\"state\":\"up\",\"path\":\"dvpn@198.51.100.2:22\","
                  "\"rtt_us\":1500,\"connections\":1,\"up_for_ms\":5000,\"last_error\":\"\",\"last_error_age_ms\":null,"
                  "\"path_number\":1,\"path_count\":1,\"path_why\":\"\"},"
                  "{\"site\":\"site-long\",\"state\":\"idle\",\"path\":\"u@[fd00::3]:22\",\"rtt_us\":null,"
                  "\"connections\":0,\"up_for_ms\":null,\"last_error\":\"\",\"last_error_age_ms\":null,"
                  "\"path_number\":1,\"path_count\":1,\"path_why\":\"\"}],") !=
        std::string::npos);
  CHECK(json.find("\"gateways\":[{\"endpoint\":\"dvpn@198.51.100.2:22\"") != std::string::npos);
}

TEST_CASE("a site with several paths names the one in use and why not the ones before it") {
  auto s = stats_of(1, 1);
  s.endpoint = "dvpn@198.51.100.2:22";
  s.up_since = t0 - 5s;
  auto h = site_health("sitehu", s.endpoint, 0, &s, t0);
  h.path_count = 2;
  CHECK(site_line(h) == "sitehu  up    dvpn@198.51.100.2:22  rtt -  conns 0  up 5s  path 1 of 2");
  h.path_number = 2;
  h.path_why = "path 1 unhealthy: far end cannot reach 10.21.0.2 port 80: Channel open failure (connect failed)";
  CHECK(site_line(h) == "sitehu  up    dvpn@198.51.100.2:22  rtt -  conns 0  up 5s  path 2 of 2 (path 1 unhealthy: "
                        "far end cannot reach 10.21.0.2 port 80: Channel open failure (connect failed))");
  StatusSnapshot snap;
  snap.site_health.push_back(h);
  CHECK(status_json(snap).find("\"path_number\":2,\"path_count\":2,\"path_why\":\"path 1 unhealthy: far end") !=
        std::string::npos);
}

TEST_CASE("a site's active connections: started and not yet ended") {
  metrics::Registry registry;
  registry.connection_started("siteb");
  registry.connection_started("siteb");
  CHECK(registry.sites().at("siteb").active == 2);
  registry.connection_ended("siteb", metrics::Result::ok, 1, 2, 0.1);
  CHECK(registry.sites().at("siteb").active == 1);
  registry.connection_ended("", metrics::Result::no_site, 0, 0, 0.0);
  CHECK(registry.sites().at("").active == 0);
}

TEST_CASE("a relay_listen line: relay, port, where to, up or down, connections, the last error and its age") {
  RelayListenHealth r;
  r.relay = "dvpn@relay.example.net:22";
  r.port = 2201;
  r.to = "127.0.0.1:22";
  r.up = true;
  r.up_for = 65s;
  r.connections = 3;
  CHECK(relay_listen_line(r) == "relay_listen dvpn@relay.example.net:22 port 2201 -> 127.0.0.1:22  up  conns 3  up 1m5s");
  r.up = false;
  r.up_for.reset();
  r.last_error = "connection to dvpn@relay.example.net:22 lost: End of file";
  r.error_age = 4s;
  CHECK(relay_listen_line(r) == "relay_listen dvpn@relay.example.net:22 port 2201 -> 127.0.0.1:22  down  conns 3  "
                                "last error 4s ago: connection to dvpn@relay.example.net:22 lost: End of file");
  StatusSnapshot snap;
  snap.relay_listens.push_back(r);
  CHECK(status_text(snap).rfind(relay_listen_line(r) + "\n\nconnections: 0 live", 0) == 0);
  CHECK(status_json(snap).find("\"relay_listen\":[{\"relay\":\"dvpn@relay.example.net:22\",\"port\":2201,"
                               "\"to\":\"127.0.0.1:22\",\"state\":\"down\",\"up_for_ms\":null,\"connections\":3,") !=
        std::string::npos);
}
