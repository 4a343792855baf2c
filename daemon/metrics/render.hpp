#pragma once
// The /metrics page: every dvpn_ metric family (documented in dvpnd(8),
// METRICS), from the registry's counters and a status snapshot's gauges
// and per-endpoint counters.
#include <string>

#include "registry.hpp"
#include "status.hpp"

namespace dvpn::metrics {

std::string render(const Registry& registry, const StatusSnapshot& snapshot, const std::string& version);

}  // namespace dvpn::metrics
