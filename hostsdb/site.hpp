#pragma once
// A site: one `#!` line of a hosts map, the remote gateway that serves a set of
// subnets.
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
};

struct Site {
  std::string name;              // first name on the line ("" if none)
  Ip address;                    // the gateway's own VPN address
  Endpoint endpoint;
  std::optional<Mode> mode;      // unset: the config's ssh.mode
  std::vector<Prefix> subnets;   // explicit subnet= options, or the widened address
  std::string origin;            // "FILE:LINE", for diagnostics and --lookup
};

}  // namespace dvpn::hostsdb
