#pragma once
// Reads the hosts sources named in the config: files, and every `*.hosts` file
// of directories (sorted by name), in order.
#include <string>
#include <vector>

#include "hosts_parser.hpp"
#include "route_table.hpp"

namespace dvpn::hostsdb {

struct LoadResult {
  RouteTable table;
  Diagnostics diags;   // warnings for bad lines; errors for unreadable sources
  bool has_errors() const noexcept;
};

// Loads every source. An unreadable or missing source adds an error (the
// caller decides: fatal at startup, a warning on reload); other sources still load.
LoadResult load_sources(const std::vector<std::string>& sources, const SitePrefix& widen);

// The files load_sources would read, in order (directories expanded); used to
// set up change notification.
std::vector<std::string> expand_sources(const std::vector<std::string>& sources);

}  // namespace dvpn::hostsdb
