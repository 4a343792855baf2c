#pragma once
// Where one redirected connection goes: the site that serves its original
// destination, resolved against the config defaults. Shared by the data path
// and `dvpnd --lookup`, so both always agree.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "route_table.hpp"

namespace dvpn {

// The SSH endpoint (user@host:port) of a site's far gateway, config defaults filled in; one
// pool of sessions exists per distinct endpoint.
struct SshEndpoint {
  std::string user;
  std::string host;
  std::uint16_t port = 22;
  std::string to_string() const;  // user@host:port, IPv6 in brackets
  friend bool operator==(const SshEndpoint&, const SshEndpoint&) = default;
};

// One way to a site's gateway (hostsdb::Path) with the config defaults filled
// in: an SSH session to `target`, or one to `relay` and, inside a direct-tcpip
// channel of it, the session to `target` as the relay sees it.
struct SshPath {
  std::optional<SshEndpoint> relay;
  SshEndpoint target;
  std::string to_string() const;  // "user@host:port", or "relay>target" as in the hosts map
  friend bool operator==(const SshPath&, const SshPath&) = default;
};

struct Target {
  hostsdb::Ip ip;
  std::uint16_t port = 0;
  const hostsdb::Site* site = nullptr;  // owned by the route table the caller holds
  // Where its SSH sessions go: paths[0].target. The pool uses only this so far,
  // even when paths[0] has a relay (then it is the target as the relay sees it).
  SshEndpoint endpoint;
  std::vector<SshPath> paths;  // every path of the site, in order (never empty); equal ones once
  hostsdb::Mode mode = hostsdb::Mode::netcat;
  std::string command;  // the far-end command (netcat mode)
  // Direct mode: the host the direct-tcpip request names, when it is not `ip`
  // (a relay's carrier channel to the target's sshd as the relay sees it).
  std::string direct_host;
};

// The far-end command with {host} and {port} substituted; anything that is
// not a plain word is single-quoted so the far end's shell sees one argument.
std::string far_command(const std::string& pattern, const hostsdb::Ip& ip, std::uint16_t port);
// The same with the port left as text (for --lookup without a port).
std::string far_command(const std::string& pattern, const hostsdb::Ip& ip, const std::string& port_text);

// An endpoint of the hosts map (or of relay_listen) with the config's defaults filled in.
SshEndpoint endpoint_with_defaults(const config::Config& cfg, const hostsdb::Endpoint& endpoint);
// A site's SSH endpoint with the config's defaults filled in.
SshEndpoint endpoint_of(const config::Config& cfg, const hostsdb::Site& site);
// All its paths likewise, in order, equal ones once (Target::paths).
std::vector<SshPath> paths_of(const config::Config& cfg, const hostsdb::Site& site);

// Resolves a destination against the table; nullopt if no site serves it.
std::optional<Target> resolve_target(const config::Config& cfg, const hostsdb::RouteTable& table,
                                     const hostsdb::Ip& ip, std::uint16_t port);

}  // namespace dvpn
