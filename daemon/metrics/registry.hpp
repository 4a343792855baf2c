#pragma once
// The daemon's Prometheus counters: connections and bytes by site and
// result, counted once per connection when it ends (one short lock then,
// none per byte; one more when it gets its site, for the open-connection
// count of the status view), two histograms on atomics, and the hosts-map reloads.
// Gauges and per-endpoint counters are read from their owners at scrape
// time (render.hpp).
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "exposition.hpp"

namespace dvpn::metrics {

// A connection's ending reduced to a small fixed set (the log line keeps the detail).
enum class Result : unsigned {
  ok,
  no_site,
  not_redirected,
  max_connections,
  gateway_unreachable,
  timeout,
  idle_timeout,
  far_end_refused,
  far_end_failed,
  far_end_reset,
  session_died,
  client_reset,
  channel_error,
  shutdown,
  dropped,
  other,
};
constexpr std::size_t result_count = static_cast<std::size_t>(Result::other) + 1;

// The class of an Ending's reason ("far-end-refused: ..." -> far_end_refused).
Result classify(std::string_view reason);
// Its label value ("far_end_refused").
const char* to_string(Result result) noexcept;

// Fixed buckets; observe() is lock-free and may run on any thread.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double seconds);
  HistogramCounts counts() const;

 private:
  std::vector<double> bounds_;
  std::vector<std::atomic<std::uint64_t>> counts_;
  std::atomic<std::uint64_t> sum_us_{0};  // microseconds: no overflow in practice
};

// Upper bounds in seconds.
extern const std::vector<double> channel_open_bounds;
extern const std::vector<double> connection_duration_bounds;

class Registry {
 public:
  struct SiteCounts {
    std::array<std::uint64_t, result_count> connections{};
    std::uint64_t bytes_up = 0, bytes_down = 0;
    std::uint64_t active = 0;  // started and not ended yet (the status view's per-site count)
  };

  // A connection got its site; its connection_ended follows.
  void connection_started(const std::string& site);
  // A connection ended. `site` is "" for one that had none (no-site,
  // not-redirected, max-connections); only those with a site go into the
  // duration histogram.
  void connection_ended(const std::string& site, Result result, std::uint64_t up, std::uint64_t down,
                        double seconds);
  // Accept to open channel (far-end command started in netcat mode).
  void channel_opened(double seconds) { channel_open_.observe(seconds); }
  void hosts_reloaded(bool ok) { (ok ? reloads_ok_ : reloads_failed_).fetch_add(1, std::memory_order_relaxed); }

  std::map<std::string, SiteCounts> sites() const;
  HistogramCounts channel_open() const { return channel_open_.counts(); }
  HistogramCounts connection_duration() const { return connection_duration_.counts(); }
  std::uint64_t reloads_ok() const { return reloads_ok_.load(std::memory_order_relaxed); }
  std::uint64_t reloads_failed() const { return reloads_failed_.load(std::memory_order_relaxed); }

 private:
  mutable std::mutex mu_;
  std::map<std::string, SiteCounts> sites_;
  Histogram channel_open_{channel_open_bounds};
  Histogram connection_duration_{connection_duration_bounds};
  std::atomic<std::uint64_t> reloads_ok_{0}, reloads_failed_{0};
};

}  // namespace dvpn::metrics
