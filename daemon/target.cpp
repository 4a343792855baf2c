#include "target.hpp"

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

}  // namespace

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

SshEndpoint endpoint_of(const config::Config& cfg, const hostsdb::Site& site) {
  SshEndpoint endpoint;
  endpoint.user = site.endpoint.user.value_or(cfg.ssh.user);
  endpoint.host = site.endpoint.host;
  endpoint.port = site.endpoint.port.value_or(cfg.ssh.port);
  return endpoint;
}

std::optional<Target> resolve_target(const config::Config& cfg, const hostsdb::RouteTable& table,
                                     const hostsdb::Ip& ip, std::uint16_t port) {
  const hostsdb::Site* site = table.lookup(ip);
  if (!site) return std::nullopt;
  Target target;
  target.ip = ip;
  target.port = port;
  target.site = site;
  target.endpoint = endpoint_of(cfg, *site);
  target.mode = site->mode.value_or(cfg.ssh.mode);
  if (target.mode == hostsdb::Mode::netcat) target.command = far_command(cfg.ssh.command, ip, port);
  return target;
}

}  // namespace dvpn
