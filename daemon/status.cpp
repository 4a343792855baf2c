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

std::optional<std::chrono::milliseconds> since(std::optional<pool::Clock::time_point> then, pool::Clock::time_point now) {
  if (!then) return std::nullopt;
  return std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(now - *then));
}

std::string json_ms(const std::optional<std::chrono::milliseconds>& value) {
  return value ? std::to_string(value->count()) : "null";
}

// "  last error 3s ago: WHY", or "" without one.
std::string error_text(const std::string& error, const std::optional<std::chrono::milliseconds>& age) {
  if (error.empty()) return {};
  return "  last error " + (age ? age_text(*age) + " ago" : std::string()) + ": " + error;
}

}  // namespace

const char* to_string(SiteHealth::State state) noexcept {
  switch (state) {
    case SiteHealth::State::up: return "up";
    case SiteHealth::State::connecting: return "connecting";
    case SiteHealth::State::down: return "down";
    case SiteHealth::State::idle: return "idle";
  }
  return "?";
}

SiteHealth site_health(std::string site, std::string path, std::uint64_t connections, const pool::Stats* pool,
                       pool::Clock::time_point now) {
  SiteHealth h;
  h.site = std::move(site);
  h.path = std::move(path);
  h.connections = connections;
  if (!pool) return h;  // never carried traffic: idle, no session needed yet
  if (pool->ready_sessions > 0) {
    h.state = SiteHealth::State::up;
    h.rtt = pool->rtt;
    h.up_for = since(pool->up_since, now);
  } else if (pool->failing) {
    h.state = SiteHealth::State::down;
  } else if (pool->sessions > 0) {
    h.state = SiteHealth::State::connecting;
  }
  h.last_error = pool->last_error;
  if (!h.last_error.empty()) h.error_age = since(pool->last_error_at, now);
  return h;
}

std::string age_text(std::chrono::milliseconds age) {
  const long long s = std::max<long long>(0, age.count() / 1000);
  const long long m = s / 60, h = s / 3600, d = s / 86400;
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(m) + "m" + std::to_string(s % 60) + "s";
  if (s < 86400) return std::to_string(h) + "h" + std::to_string(m % 60) + "m";
  return std::to_string(d) + "d" + std::to_string(h % 24) + "h";
}

std::string rtt_text(std::chrono::microseconds rtt) {
  const double ms = static_cast<double>(rtt.count()) / 1000.0;
  char text[32];
  std::snprintf(text, sizeof text, ms < 10 ? "%.2fms" : ms < 100 ? "%.1fms" : "%.0fms", ms);
  return text;
}

std::string site_line(const SiteHealth& health, std::size_t site_width, std::size_t path_width) {
  auto padded = [](const std::string& text, std::size_t width) {
    return text.size() >= width ? text : text + std::string(width - text.size(), ' ');
  };
  std::string line = padded(health.site, site_width) + "  " + padded(to_string(health.state), 4) + "  " +
                     padded(health.path, path_width);
  if (health.state == SiteHealth::State::up) line += "  rtt " + (health.rtt ? rtt_text(*health.rtt) : "-");
  line += "  conns " + std::to_string(health.connections);
  if (health.state == SiteHealth::State::up && health.up_for) line += "  up " + age_text(*health.up_for);
  if (health.state == SiteHealth::State::idle) line += "  no session needed yet";
  if (health.path_count > 1) {
    line += "  path " + std::to_string(health.path_number) + " of " + std::to_string(health.path_count);
    if (!health.path_why.empty()) line += " (" + health.path_why + ")";
  }
  return line + error_text(health.last_error, health.error_age);
}

std::string relay_listen_line(const RelayListenHealth& health) {
  std::string line = "relay_listen " + health.relay + " port " + std::to_string(health.port) + " -> " + health.to +
                     "  " + (health.up ? "up" : "down") + "  conns " + std::to_string(health.connections);
  if (health.up && health.up_for) line += "  up " + age_text(*health.up_for);
  return line + error_text(health.last_error, health.error_age);
}

std::string status_text(const StatusSnapshot& snapshot) {
  std::ostringstream out;
  std::size_t site_width = 0, path_width = 0;
  for (const auto& h : snapshot.site_health) {
    site_width = std::max(site_width, h.site.size());
    path_width = std::max(path_width, h.path.size());
  }
  for (const auto& h : snapshot.site_health) out << site_line(h, site_width, path_width) << "\n";
  if (!snapshot.site_health.empty()) out << "\n";
  for (const auto& r : snapshot.relay_listens) out << relay_listen_line(r) << "\n";
  if (!snapshot.relay_listens.empty()) out << "\n";
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
      << ",\"site_health\":[";
  for (std::size_t i = 0; i < snapshot.site_health.size(); ++i) {
    const auto& h = snapshot.site_health[i];
    out << (i ? "," : "") << "{\"site\":" << json_string(h.site) << ",\"state\":\"" << to_string(h.state)
        << "\",\"path\":" << json_string(h.path)
        << ",\"rtt_us\":" << (h.rtt ? std::to_string(h.rtt->count()) : "null")
        << ",\"connections\":" << h.connections << ",\"up_for_ms\":" << json_ms(h.up_for)
        << ",\"last_error\":" << json_string(h.last_error) << ",\"last_error_age_ms\":" << json_ms(h.error_age)
        << ",\"path_number\":" << h.path_number << ",\"path_count\":" << h.path_count
        << ",\"path_why\":" << json_string(h.path_why) << "}";
  }
  out << "],\"relay_listen\":[";
  for (std::size_t i = 0; i < snapshot.relay_listens.size(); ++i) {
    const auto& r = snapshot.relay_listens[i];
    out << (i ? "," : "") << "{\"relay\":" << json_string(r.relay) << ",\"port\":" << r.port
        << ",\"to\":" << json_string(r.to) << ",\"state\":\"" << (r.up ? "up" : "down")
        << "\",\"up_for_ms\":" << json_ms(r.up_for) << ",\"connections\":" << r.connections
        << ",\"last_error\":" << json_string(r.last_error) << ",\"last_error_age_ms\":" << json_ms(r.error_age)
        << "}";
  }
  out << "],\"gateways\":[";
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
