// The config's scalar forms (durations, sizes, the ssh command template) as
// pure string functions, with no YAML in sight. Listen addresses are
// hostsdb::IpEndpoint's, shared with the daemon and --firewall-params.
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "config.hpp"

namespace dvpn::config {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Splits "123unit" into its leading digits and the rest; nullopt if there are
// no digits or the number does not fit 64 bits.
struct Number {
  std::uint64_t value;
  std::string_view unit;
};

std::optional<Number> split_number(std::string_view text) {
  std::size_t i = 0;
  std::uint64_t value = 0;
  constexpr auto max = std::numeric_limits<std::uint64_t>::max();
  for (; i < text.size() && is_digit(text[i]); ++i) {
    const auto digit = static_cast<std::uint64_t>(text[i] - '0');
    if (value > (max - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  if (i == 0) return std::nullopt;
  return Number{value, text.substr(i)};
}

// value * factor, or nullopt if that exceeds `limit`.
std::optional<std::uint64_t> scale(std::uint64_t value, std::uint64_t factor, std::uint64_t limit) {
  if (value > limit / factor) return std::nullopt;
  return value * factor;
}

bool is_identifier_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  const auto number = split_number(text);
  if (!number) return std::nullopt;
  struct Unit {
    std::string_view name;
    std::uint64_t ms;
  };
  constexpr std::array<Unit, 4> units{{{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}}};
  constexpr auto limit = static_cast<std::uint64_t>(std::numeric_limits<Duration::rep>::max());
  for (const auto& unit : units) {
    if (number->unit != unit.name) continue;
    const auto ms = scale(number->value, unit.ms, limit);
    if (!ms) return std::nullopt;
    return Duration(static_cast<Duration::rep>(*ms));
  }
  return std::nullopt;  // no unit, or one we do not know
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  const auto number = split_number(text);
  if (!number) return std::nullopt;
  struct Unit {
    std::string_view name;
    std::uint64_t bytes;
  };
  constexpr std::array<Unit, 5> units{
      {{"", 1}, {"B", 1}, {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30}}};
  for (const auto& unit : units) {
    if (number->unit == unit.name)
      return scale(number->value, unit.bytes, std::numeric_limits<std::uint64_t>::max());
  }
  return std::nullopt;
}

std::string check_command_template(std::string_view command) {
  bool has_host = false;
  bool has_port = false;
  for (std::size_t open = command.find('{'); open != std::string_view::npos;
       open = command.find('{', open + 1)) {
    std::size_t end = open + 1;
    while (end < command.size() && is_identifier_char(command[end])) ++end;
    // Only "{word}" is a placeholder; other braces (a shell "{ ...; }" group) are text.
    if (end == open + 1 || end == command.size() || command[end] != '}') continue;
    const auto name = command.substr(open + 1, end - open - 1);
    if (name == "host") {
      has_host = true;
    } else if (name == "port") {
      has_port = true;
    } else {
      return "has an unknown placeholder {" + std::string(name) + "}";
    }
  }
  if (!has_host) return "has no {host} placeholder";
  if (!has_port) return "has no {port} placeholder";
  return {};
}

const char* to_string(HostKeyPolicy policy) noexcept {
  return policy == HostKeyPolicy::strict ? "strict" : "accept-new";
}

const char* to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warning: return "warning";
    case LogLevel::error: return "error";
  }
  return "?";
}

const char* to_string(LogTarget target) noexcept {
  return target == LogTarget::stderr_ ? "stderr" : "syslog";
}

}  // namespace dvpn::config
