#pragma once
// `dvpnd --lookup ADDR[:PORT]`: what would carry a connection to ADDR.
#include <optional>
#include <string>

#include "config.hpp"
#include "route_table.hpp"

namespace dvpn {

struct LookupQuery {
  hostsdb::Ip ip;
  std::uint16_t port = 0;  // 0 when not given
};

// Parses "10.0.3.7", "10.0.3.7:80", "fd00::1", "[fd00::1]:80".
std::optional<LookupQuery> parse_lookup_query(const std::string& text);

// The report; `found` tells whether a site serves the address.
std::string describe_lookup(const config::Config& cfg, const hostsdb::RouteTable& table, const LookupQuery& query,
                            bool& found);

}  // namespace dvpn
