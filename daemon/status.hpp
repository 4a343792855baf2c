#pragma once
// The status view: what the daemon reports over its control socket, as text
// for people and JSON for programs.
#include <string>
#include <vector>

#include "pool/endpoint_pool.hpp"

namespace dvpn {

struct StatusSnapshot {
  unsigned live_connections = 0;
  std::size_t sites = 0;
  std::vector<pool::Stats> gateways;
};

std::string status_text(const StatusSnapshot& snapshot);
std::string status_json(const StatusSnapshot& snapshot);

}  // namespace dvpn
