#pragma once
// A site: one `#!` line of a hosts map, the remote gateway that serves a set of
// subnets, and the paths by which dvpnd reaches it.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ip.hpp"

namespace dvpn::hostsdb {

enum class Mode { netcat, direct };
const char* to_string(Mode) noexcept;

// Where to reach a site's gateway by SSH; unset parts take the config defaults.
struct Endpoint {
  std::optional<std::string> user;
  std::string host;  // DNS name or IP literal, without brackets
  std::optional<std::uint16_t> port;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// One way to reach a site's gateway: an SSH session to `target`, or, with a
// `relay` (`RELAY>TARGET` in the hosts map, like ssh's ProxyJump), an SSH
// session to the relay and, inside a direct-tcpip channel of it, the SSH
// session to `target` as the relay sees it (e.g. 127.0.0.1:2201, a port the
// NAT'd site forwards on the relay). One level of relay only.
struct Path {
  std::optional<Endpoint> relay;
  Endpoint target;
  friend bool operator==(const Path&, const Path&) = default;
};

// The most paths one site line may list (`#!a,b,...`).
inline constexpr std::size_t max_paths = 8;

struct Site {
  std::string name;              // first name on the line ("" if none)
  Ip address;                    // the gateway's own VPN address
  std::vector<Path> paths;       // 1 to max_paths, in order: the first is preferred
  std::optional<Mode> mode;      // unset: the config's ssh.mode
  std::vector<Prefix> subnets;   // explicit subnet= options, or the widened address
  std::string origin;            // "FILE:LINE", for diagnostics and --lookup
};

}  // namespace dvpn::hostsdb
