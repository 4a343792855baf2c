// libFuzzer target: the hosts-map parser (hostsdb/hosts_parser.hpp) on any
// text. Every site it returns must be self-consistent.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "hosts_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dvpn::hostsdb;
  // The widening prefixes follow the input's length (past 32 / 128 they
  // clamp), so the subnet= defaults are explored without spending a byte.
  SitePrefix widen;
  widen.ipv4 = static_cast<std::uint8_t>(size % 40);
  widen.ipv6 = static_cast<std::uint8_t>(size % 140);
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Diagnostics diags;
  auto sites = parse_hosts_text(text, "fuzz.hosts", widen, diags);
  for (const auto& site : sites) {
    // Every site has 1 to max_paths paths, each with a host (and a relay's).
    if (site.paths.empty() || site.paths.size() > max_paths) std::abort();
    for (const auto& path : site.paths) {
      if (path.target.host.empty() || (path.relay && path.relay->host.empty())) std::abort();
    }
    // The subnet a site line produced parses back to itself.
    for (const auto& subnet : site.subnets) {
      auto again = Prefix::parse(subnet.to_string());
      if (!again.prefix || !(*again.prefix == subnet)) std::abort();
    }
  }
  return 0;
}
