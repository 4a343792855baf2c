#pragma once
// The status view: what the daemon reports over its control socket, as text
// for people and JSON for programs. It leads with one line per site (its
// health at a glance), then the counters of every endpoint pool.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pool/endpoint_pool.hpp"

namespace dvpn {

// One site of the hosts map, as the status view's line shows it.
struct SiteHealth {
  // up: a ready session exists; connecting: a first handshake is under way;
  // down: no ready session and the last one to end failed; idle: no session
  // and no failure (a site that never carried traffic has no pool yet).
  enum class State { up, connecting, down, idle };
  std::string site;  // its name, or FILE:LINE for an unnamed one
  // How it is reached now: the path new connections take (user@host:port,
  // or relay>target), number `path_number` of its `path_count` paths, and
  // why not the ones before it ("path 1 unhealthy: ...", pool::Registry::route).
  std::string path;
  std::size_t path_number = 1;
  std::size_t path_count = 1;
  std::string path_why;
  State state = State::idle;
  std::uint64_t connections = 0;  // the site's connections accepted and not yet ended
  std::optional<std::chrono::microseconds> rtt;
  std::optional<std::chrono::milliseconds> up_for;
  std::string last_error;
  std::optional<std::chrono::milliseconds> error_age;
};

const char* to_string(SiteHealth::State state) noexcept;

// The health of a site reached over `path`, from its pool's stats (nullptr:
// no pool yet) at `now`.
SiteHealth site_health(std::string site, std::string path, std::uint64_t connections, const pool::Stats* pool,
                       pool::Clock::time_point now);

// A duration as "45s", "3m12s", "2h3m" or "4d6h" (rounded down).
std::string age_text(std::chrono::milliseconds age);
// A round-trip time in milliseconds: "0.42ms", "12.3ms" or "230ms".
std::string rtt_text(std::chrono::microseconds rtt);
// One site's line, its name and path padded to the given widths:
//   "siteb  up    dvpn@198.51.100.2:22  rtt 0.42ms  conns 3  up 2h3m"
// and for a site with several paths, which one and why:
//   "... up 5s  path 2 of 2 (path 1 unhealthy: far end cannot reach ...)"
std::string site_line(const SiteHealth& health, std::size_t site_width = 0, std::size_t path_width = 0);

// One relay_listen item: this gateway listening on a relay's loopback port.
struct RelayListenHealth {
  std::string relay;  // user@host:port
  std::uint16_t port = 0;
  std::string to;     // ADDRESS:PORT
  bool up = false;    // the relay listens for us
  std::optional<std::chrono::milliseconds> up_for;
  std::uint64_t connections = 0;  // forwarded connections so far
  std::string last_error;
  std::optional<std::chrono::milliseconds> error_age;
};

// "relay_listen dvpn@relay:22 port 2201 -> 127.0.0.1:22  up  conns 3  up 5m2s  last error 6m ago: ..."
std::string relay_listen_line(const RelayListenHealth& health);

struct StatusSnapshot {
  unsigned live_connections = 0;
  std::size_t sites = 0;
  std::vector<SiteHealth> site_health;  // one per site, in the hosts map's order
  std::vector<RelayListenHealth> relay_listens;  // in the config's order
  std::vector<pool::Stats> gateways;
};

std::string status_text(const StatusSnapshot& snapshot);
std::string status_json(const StatusSnapshot& snapshot);

}  // namespace dvpn
