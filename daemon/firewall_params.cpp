// `dvpnd --firewall-params`: see firewall_params.hpp for the format.
#include "firewall_params.hpp"

#include <pwd.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "ip_endpoint.hpp"

namespace dvpn::firewall {
namespace {

// The numeric uid of an account; nullopt if there is none by that name.
std::optional<uid_t> account_uid(const std::string& name) {
  std::vector<char> buf(16384);
  passwd entry{};
  passwd* found = nullptr;
  if (getpwnam_r(name.c_str(), &entry, buf.data(), buf.size(), &found) != 0 || found == nullptr)
    return std::nullopt;
  return found->pw_uid;
}

// True if `value` can sit on a key=value line the script reads without eval.
bool shell_safe(std::string_view value) {
  return std::all_of(value.begin(), value.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == ':' || c == '/' || c == ' ' || c == '-';
  });
}

std::string cidrs(const std::vector<hostsdb::Prefix>& prefixes, bool v4) {
  std::string out;
  for (const auto& prefix : prefixes) {
    if (prefix.network.is_v4() != v4) continue;
    if (!out.empty()) out += ' ';
    out += prefix.to_string();
  }
  return out;
}

config::ConfigError error(const config::Config& cfg, const std::string& what) {
  return config::ConfigError((cfg.path.empty() ? std::string("<defaults>") : cfg.path) + ": " +
                             what);
}

}  // namespace

std::string params_text(const config::Config& cfg) {
  std::string ports;
  std::vector<std::uint16_t> seen;
  for (const auto& entry : cfg.listen) {
    // The config's own parser, so an entry the daemon would not listen on
    // (":7007", a name) gets no firewall rule either.
    const auto parsed = hostsdb::IpEndpoint::parse(entry);
    if (!parsed.endpoint) throw error(cfg, "listen: '" + entry + "': " + parsed.error);
    const auto port = parsed.endpoint->port;
    if (std::find(seen.begin(), seen.end(), port) != seen.end()) continue;
    seen.push_back(port);
    if (!ports.empty()) ports += ' ';
    ports += std::to_string(port);
  }

  std::string uid;
  if (!cfg.run_as.empty()) {
    if (!shell_safe(cfg.run_as))
      throw error(cfg, "run_as: not a plain account name, expected letters, digits, _ . -");
    auto found = account_uid(cfg.run_as);
    if (!found)
      throw error(cfg, "run_as: no account named '" + cfg.run_as +
                           "', expected an existing user (or \"\" to keep the starting user)");
    uid = std::to_string(*found);
  }

  std::string out = "format=1\n";
  out += "listen_ports=" + ports + "\n";
  out += "vpn_networks_v4=" + cidrs(cfg.vpn_networks, true) + "\n";
  out += "vpn_networks_v6=" + cidrs(cfg.vpn_networks, false) + "\n";
  out += "local_subnets_v4=" + cidrs(cfg.local_subnets, true) + "\n";
  out += "local_subnets_v6=" + cidrs(cfg.local_subnets, false) + "\n";
  out += "run_as=" + cfg.run_as + "\n";
  out += "run_as_uid=" + uid + "\n";
  return out;
}

}  // namespace dvpn::firewall
