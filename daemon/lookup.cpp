#include "lookup.hpp"

#include <algorithm>
#include <sstream>

#include "ip_endpoint.hpp"
#include "target.hpp"

namespace dvpn {

std::optional<LookupQuery> parse_lookup_query(const std::string& text) {
  std::string host = text;
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return std::nullopt;
      port_text = text.substr(close + 2);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    auto colon = text.find(':');
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  auto ip = hostsdb::Ip::parse(host);
  if (!ip) return std::nullopt;
  LookupQuery query{*ip, 0};
  if (!port_text.empty() && !hostsdb::parse_port(port_text, query.port).empty()) return std::nullopt;
  return query;
}

std::string describe_lookup(const config::Config& cfg, const hostsdb::RouteTable& table, const LookupQuery& query,
                            bool& found) {
  std::ostringstream out;
  std::string shown = query.port ? hostsdb::IpEndpoint{query.ip, query.port}.to_string() : query.ip.to_string();
  auto target = resolve_target(cfg, table, query.ip, query.port);
  found = target.has_value();
  if (!target) {
    out << shown << ": no site serves this address; connections to it are reset\n";
    return out.str();
  }
  const hostsdb::Site& site = *target->site;
  const hostsdb::Prefix* matched = nullptr;
  for (const auto& subnet : site.subnets)
    if (subnet.contains(query.ip) && (!matched || subnet.length128() > matched->length128())) matched = &subnet;
  out << shown << " -> site " << (site.name.empty() ? "(unnamed)" : site.name) << " (" << site.origin << ")\n";
  if (matched) out << "  subnet:   " << matched->to_string() << "\n";
  // The preferred path, then each fallback in the order they are tried.
  for (std::size_t i = 0; i < target->paths.size(); ++i) {
    const auto& path = target->paths[i];
    out << (i == 0 ? "  endpoint: " : "  fallback: ") << path.target.to_string();
    if (path.relay) out << " via " << path.relay->to_string();
    out << "\n";
  }
  out << "  mode:     " << hostsdb::to_string(target->mode) << "\n";
  if (target->mode == hostsdb::Mode::netcat) {
    out << "  command:  " << (query.port ? target->command : far_command(cfg.ssh.command, query.ip, "PORT")) << "\n";
  } else {
    out << "  channel:  direct-tcpip to " << shown << "\n";
  }
  return out.str();
}

}  // namespace dvpn
