#include "registry.hpp"

#include <algorithm>
#include <cmath>

namespace dvpn::metrics {
namespace {

struct Prefix {
  std::string_view word;
  Result result;
};

// The first word of every reason dvpnd writes (Ending::reason).
constexpr Prefix prefixes[] = {
    {"ok", Result::ok},
    {"no-site", Result::no_site},
    {"not-redirected", Result::not_redirected},
    {"max-connections", Result::max_connections},
    {"gateway-unreachable", Result::gateway_unreachable},
    {"timeout", Result::timeout},
    {"abandoned", Result::timeout},  // the open outlived its connect_timeout
    {"idle-timeout", Result::idle_timeout},
    {"far-end-refused", Result::far_end_refused},
    {"far-end-failed", Result::far_end_failed},
    {"far-end-reset", Result::far_end_reset},
    {"session-died", Result::session_died},
    {"client-gone", Result::client_reset},
    {"client-reset", Result::client_reset},
    {"channel", Result::channel_error},  // "channel error reading: ..."
    {"daemon", Result::shutdown},        // "daemon stopping"
    {"dropped", Result::dropped},
};

constexpr const char* names[result_count] = {
    "ok",           "no_site",       "not_redirected",  "max_connections", "gateway_unreachable", "timeout",
    "idle_timeout", "far_end_refused", "far_end_failed", "far_end_reset",   "session_died",        "client_reset",
    "channel_error", "shutdown",     "dropped",         "other",
};

}  // namespace

const std::vector<double> channel_open_bounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
const std::vector<double> connection_duration_bounds = {0.01, 0.1, 0.5, 1,   5,    10,   30,
                                                        60,   300, 900, 3600, 14400, 86400};

Result classify(std::string_view reason) {
  const auto end = reason.find_first_of(" :(");
  const std::string_view word = reason.substr(0, end);
  for (const auto& prefix : prefixes)
    if (prefix.word == word) return prefix.result;
  return Result::other;
}

const char* to_string(Result result) noexcept { return names[static_cast<std::size_t>(result)]; }

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}

void Histogram::observe(double seconds) {
  if (!(seconds >= 0)) seconds = 0;
  const auto bucket = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), seconds) - bounds_.begin());
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<std::uint64_t>(std::llround(seconds * 1e6)), std::memory_order_relaxed);
}

HistogramCounts Histogram::counts() const {
  HistogramCounts out;
  out.bounds = bounds_;
  out.counts.reserve(counts_.size());
  for (const auto& count : counts_) out.counts.push_back(count.load(std::memory_order_relaxed));
  out.sum = static_cast<double>(sum_us_.load(std::memory_order_relaxed)) / 1e6;
  return out;
}

void Registry::connection_started(const std::string& site) {
  std::lock_guard lock(mu_);
  sites_[site].active++;
}

void Registry::connection_ended(const std::string& site, Result result, std::uint64_t up, std::uint64_t down,
                                double seconds) {
  if (!site.empty()) connection_duration_.observe(seconds);
  std::lock_guard lock(mu_);
  auto& counts = sites_[site];
  counts.connections[static_cast<std::size_t>(result)]++;
  counts.bytes_up += up;
  counts.bytes_down += down;
  if (!site.empty() && counts.active > 0) counts.active--;
}

std::map<std::string, Registry::SiteCounts> Registry::sites() const {
  std::lock_guard lock(mu_);
  return sites_;
}

}  // namespace dvpn::metrics
