#include "exposition.hpp"

#include <charconv>
#include <cmath>

namespace dvpn::metrics {

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char text[32];
  auto result = std::to_chars(text, text + sizeof text, value);
  return std::string(text, result.ptr);
}

void Exposition::family(std::string_view name, std::string_view type, std::string_view help) {
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  for (char c : help) {  // HELP escapes only \ and newline
    if (c == '\\') text_ += "\\\\";
    else if (c == '\n') text_ += "\\n";
    else text_ += c;
  }
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += ' ';
  text_ += type;
  text_ += '\n';
}

void Exposition::labels(const Labels& labels, std::string_view le) {
  if (labels.empty() && le.empty()) return;
  text_ += '{';
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) text_ += ',';
    first = false;
    text_ += name;
    text_ += "=\"";
    text_ += escape_label_value(value);
    text_ += '"';
  }
  if (!le.empty()) {
    if (!first) text_ += ',';
    text_ += "le=\"";
    text_ += le;
    text_ += '"';
  }
  text_ += '}';
}

void Exposition::sample(std::string_view name, const Labels& labels, double value) {
  text_ += name;
  this->labels(labels);
  text_ += ' ';
  text_ += format_value(value);
  text_ += '\n';
}

void Exposition::histogram(std::string_view name, const Labels& labels, const HistogramCounts& histogram) {
  const std::string bucket = std::string(name) + "_bucket";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < histogram.counts.size(); ++i) {
    cumulative += histogram.counts[i];
    const std::string le = i < histogram.bounds.size() ? format_value(histogram.bounds[i]) : "+Inf";
    text_ += bucket;
    this->labels(labels, le);
    text_ += ' ';
    text_ += std::to_string(cumulative);
    text_ += '\n';
  }
  sample(std::string(name) + "_sum", labels, histogram.sum);
  sample(std::string(name) + "_count", labels, static_cast<double>(cumulative));
}

}  // namespace dvpn::metrics
