#pragma once
// The Prometheus text exposition format (version 0.0.4), written by hand:
// HELP and TYPE lines, samples with escaped label values, and histograms
// with cumulative buckets. Pure; the daemon's numbers come from metrics.hpp.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dvpn::metrics {

using Labels = std::vector<std::pair<std::string_view, std::string>>;

// A histogram's counts per bucket, not cumulative: counts[i] observations
// were <= bounds[i] and > bounds[i-1]; counts.back() (one more than bounds)
// those above every bound.
struct HistogramCounts {
  std::vector<double> bounds;
  std::vector<std::uint64_t> counts;
  double sum = 0;
};

// A label value with \, " and newline escaped as the format requires.
std::string escape_label_value(std::string_view value);
// A sample value or bucket bound: integers without a fraction, others in
// the shortest form that reads back exactly, infinity as +Inf.
std::string format_value(double value);

class Exposition {
 public:
  // Starts a metric family: "# HELP name help" and "# TYPE name type".
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, const Labels& labels, double value);
  // name_bucket{...,le="..."} for every bound and +Inf, then name_sum and name_count.
  void histogram(std::string_view name, const Labels& labels, const HistogramCounts& histogram);
  const std::string& text() const noexcept { return text_; }

 private:
  void labels(const Labels& labels, std::string_view le = {});
  std::string text_;
};

}  // namespace dvpn::metrics
