#include "ip_endpoint.hpp"

#include "diagnostic.hpp"  // quote

namespace dvpn::hostsdb {
namespace {

constexpr std::string_view expected = ", expected ADDRESS:PORT like 10.0.0.1:7007 or [::]:7007";

IpEndpoint::Parsed refused(std::string what) { return {std::nullopt, std::move(what) += expected}; }

}  // namespace

IpEndpoint::Parsed IpEndpoint::parse(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return refused("missing \"]\" after an IPv6 address");
    host = text.substr(1, close - 1);
    const auto after = text.substr(close + 1);
    if (!after.starts_with(':')) return refused("missing \":PORT\" after \"]\"");
    port_text = after.substr(1);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return refused("missing \":PORT\" in " + quote(text));
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.empty()) return refused("missing the address before \":\"");
    if (host.find(':') != std::string_view::npos)
      return refused("an IPv6 address must be in brackets");
  }
  const bool bracketed = text.starts_with('[');
  const auto ip = Ip::parse(host);
  if (!ip) return refused(quote(host) + " is not an IP address");
  // One spelling per family: an IPv4-mapped literal in brackets would be a
  // second way to write an IPv4 listener.
  if (bracketed && ip->is_v4()) return refused("brackets must hold an IPv6 address");
  std::uint16_t port = 0;
  if (auto error = parse_port(port_text, port); !error.empty()) return refused(std::move(error));
  return {IpEndpoint{*ip, port}, {}};
}

std::string IpEndpoint::to_string() const { return host_port_text(ip.to_string(), port); }

std::string host_port_text(std::string_view host, std::uint16_t port) {
  std::string out;
  const bool v6 = host.find(':') != std::string_view::npos;
  if (v6) out += '[';
  out += host;
  if (v6) out += ']';
  return out + ':' + std::to_string(port);
}

std::string parse_port(std::string_view digits, std::uint16_t& port) {
  if (digits.empty()) return "empty port after \":\"";
  unsigned value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return "port " + quote(digits) + " is not a number";
    if (value <= 65535) value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return "port " + quote(digits) + " out of range 1-65535";
  port = static_cast<std::uint16_t>(value);
  return {};
}

}  // namespace dvpn::hostsdb
