#include "target.hpp"

#include <algorithm>

namespace dvpn {
namespace {

bool is_plain_word(const std::string& text) {
  if (text.empty()) return false;
  for (char c : text) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == ':' || c == '_' || c == '-' || c == '/';
    if (!plain) return false;
  }
  return true;
}

std::string shell_quote(const std::string& text) {
  if (is_plain_word(text)) return text;
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

SshEndpoint with_defaults(const config::Config& cfg, const hostsdb::Endpoint& endpoint) {
  return {endpoint.user.value_or(cfg.ssh.user), endpoint.host, endpoint.port.value_or(cfg.ssh.port)};
}

}  // namespace

std::string SshPath::to_string() const {
  return relay ? relay->to_string() + ">" + target.to_string() : target.to_string();
}

std::string SshEndpoint::to_string() const {
  bool v6 = host.find(':') != std::string::npos;
  std::string out = user + "@";
  out += v6 ? "[" + host + "]" : host;
  return out + ":" + std::to_string(port);
}

std::string far_command(const std::string& pattern, const hostsdb::Ip& ip, std::uint16_t port) {
  return far_command(pattern, ip, std::to_string(port));
}

std::string far_command(const std::string& pattern, const hostsdb::Ip& ip, const std::string& port_text) {
  const std::string host = shell_quote(ip.to_string());
  std::string out;
  out.reserve(pattern.size() + host.size());
  for (std::size_t i = 0; i < pattern.size();) {
    if (pattern.compare(i, 6, "{host}") == 0) {
      out += host;
      i += 6;
    } else if (pattern.compare(i, 6, "{port}") == 0) {
      out += port_text;
      i += 6;
    } else {
      out += pattern[i++];
    }
  }
  return out;
}

SshEndpoint endpoint_with_defaults(const config::Config& cfg, const hostsdb::Endpoint& endpoint) {
  return with_defaults(cfg, endpoint);
}

SshEndpoint endpoint_of(const config::Config& cfg, const hostsdb::Site& site) {
  return with_defaults(cfg, site.paths.front().target);
}

namespace {

SshPath with_defaults(const config::Config& cfg, const hostsdb::Path& path) {
  SshPath resolved;
  if (path.relay) resolved.relay = with_defaults(cfg, *path.relay);
  resolved.target = with_defaults(cfg, path.target);
  return resolved;
}

}  // namespace

std::vector<SshPath> paths_of(const config::Config& cfg, const hostsdb::Site& site) {
  std::vector<SshPath> paths;
  paths.reserve(site.paths.size());
  for (const auto& path : site.paths) {
    SshPath resolved = with_defaults(cfg, path);
    // "gw" and "dvpn@gw:22" are one path once the defaults are filled in.
    if (std::find(paths.begin(), paths.end(), resolved) == paths.end()) paths.push_back(std::move(resolved));
  }
  return paths;
}

std::optional<Target> resolve_target(const config::Config& cfg, const hostsdb::RouteTable& table,
                                     const hostsdb::Ip& ip, std::uint16_t port) {
  const hostsdb::Site* site = table.lookup(ip);
  if (!site) return std::nullopt;
  Target target;
  target.ip = ip;
  target.port = port;
  target.site = site;
  target.paths = paths_of(cfg, *site);
  if (!target.paths.empty()) target.endpoint = target.paths.front().target;
  target.mode = site->mode.value_or(cfg.ssh.mode);
  if (target.mode == hostsdb::Mode::netcat) target.command = far_command(cfg.ssh.command, ip, port);
  return target;
}

}  // namespace dvpn
