#include "status.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace dvpn {
namespace {

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string human_bytes(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit ? "%.1f %s" : "%.0f %s", value, units[unit]);
  return text;
}

}  // namespace

std::string status_text(const StatusSnapshot& snapshot) {
  std::ostringstream out;
  out << "connections: " << snapshot.live_connections << " live; sites: " << snapshot.sites
      << "; gateways in use: " << snapshot.gateways.size() << "\n";
  for (const auto& g : snapshot.gateways) {
    out << "\n" << g.endpoint << "\n"
        << "  sessions " << g.sessions << ", channels " << g.channels << ", waiting " << g.waiting << "\n"
        << "  connections " << g.connections << ", up " << human_bytes(g.bytes_up) << ", down "
        << human_bytes(g.bytes_down) << "\n"
        << "  failures " << g.failures;
    if (!g.last_error.empty()) out << ", last error: " << g.last_error;
    out << "\n";
  }
  return out.str();
}

std::string status_json(const StatusSnapshot& snapshot) {
  std::ostringstream out;
  out << "{\"live_connections\":" << snapshot.live_connections << ",\"sites\":" << snapshot.sites
      << ",\"gateways\":[";
  for (std::size_t i = 0; i < snapshot.gateways.size(); ++i) {
    const auto& g = snapshot.gateways[i];
    out << (i ? "," : "") << "{\"endpoint\":" << json_string(g.endpoint) << ",\"sessions\":" << g.sessions
        << ",\"channels\":" << g.channels << ",\"waiting\":" << g.waiting << ",\"connections\":" << g.connections
        << ",\"bytes_up\":" << g.bytes_up << ",\"bytes_down\":" << g.bytes_down << ",\"failures\":" << g.failures
        << ",\"last_error\":" << json_string(g.last_error) << "}";
  }
  out << "]}\n";
  return out.str();
}

}  // namespace dvpn
