#include "render.hpp"

namespace dvpn::metrics {

namespace {

double number(std::uint64_t n) { return static_cast<double>(n); }

// Per-site connection counters and the two latency histograms.
void render_connections(Exposition& out, const Registry& registry, const StatusSnapshot& snapshot) {
  const auto sites = registry.sites();
  out.family("dvpn_connections_total", "counter",
             "Connections that ended, by site (\"\" for none) and result class of their ending.");
  for (const auto& [site, counts] : sites) {
    for (std::size_t r = 0; r < result_count; ++r) {
      // Every site that was seen shows result="ok", even at 0; other results once they happen.
      if (counts.connections[r] == 0 && (r != 0 || site.empty())) continue;
      out.sample("dvpn_connections_total", {{"site", site}, {"result", to_string(static_cast<Result>(r))}},
                 number(counts.connections[r]));
    }
  }

  out.family("dvpn_connections_active", "gauge", "Connections accepted and not yet ended.");
  out.sample("dvpn_connections_active", {}, snapshot.live_connections);

  out.family("dvpn_bytes_total", "counter",
             "Bytes carried by connections that ended, by site; up is client to far end, down the reverse.");
  for (const auto& [site, counts] : sites) {
    if (site.empty()) continue;
    out.sample("dvpn_bytes_total", {{"site", site}, {"direction", "up"}}, number(counts.bytes_up));
    out.sample("dvpn_bytes_total", {{"site", site}, {"direction", "down"}}, number(counts.bytes_down));
  }

  out.family("dvpn_connection_duration_seconds", "histogram",
             "Accept to end of connections that had a site.");
  out.histogram("dvpn_connection_duration_seconds", {}, registry.connection_duration());

  out.family("dvpn_channel_open_duration_seconds", "histogram",
             "Accept to open SSH channel (far-end command started in netcat mode), waiting for a session included.");
  out.histogram("dvpn_channel_open_duration_seconds", {}, registry.channel_open());
}

// Sessions, channels and failures by SSH endpoint.
void render_endpoints(Exposition& out, const StatusSnapshot& snapshot) {
  out.family("dvpn_sessions", "gauge", "SSH sessions by endpoint and state (connecting or ready).");
  for (const auto& g : snapshot.gateways) {
    const unsigned connecting = g.sessions > g.ready_sessions ? g.sessions - g.ready_sessions : 0;  // two loads
    out.sample("dvpn_sessions", {{"endpoint", g.endpoint}, {"state", "connecting"}}, connecting);
    out.sample("dvpn_sessions", {{"endpoint", g.endpoint}, {"state", "ready"}}, g.ready_sessions);
  }
  out.family("dvpn_channels", "gauge", "SSH channels in use or opening, by endpoint.");
  for (const auto& g : snapshot.gateways) out.sample("dvpn_channels", {{"endpoint", g.endpoint}}, g.channels);
  out.family("dvpn_waiting_connections", "gauge", "Connections waiting for a channel, by endpoint.");
  for (const auto& g : snapshot.gateways)
    out.sample("dvpn_waiting_connections", {{"endpoint", g.endpoint}}, g.waiting);

  out.family("dvpn_session_failures_total", "counter",
             "SSH sessions that failed, by endpoint and stage (handshake: never ready; established: died).");
  for (const auto& g : snapshot.gateways) {
    out.sample("dvpn_session_failures_total", {{"endpoint", g.endpoint}, {"stage", "handshake"}},
               number(g.handshake_failures));
    out.sample("dvpn_session_failures_total", {{"endpoint", g.endpoint}, {"stage", "established"}},
               number(g.session_deaths));
  }
  out.family("dvpn_session_reconnects_total", "counter",
             "SSH sessions started after a failure and before the next session became ready, by endpoint.");
  for (const auto& g : snapshot.gateways)
    out.sample("dvpn_session_reconnects_total", {{"endpoint", g.endpoint}}, number(g.reconnects));
}

}  // namespace

std::string render(const Registry& registry, const StatusSnapshot& snapshot, const std::string& version) {
  Exposition out;
  out.family("dvpn_build_info", "gauge", "Always 1; the version label says which dvpnd runs.");
  out.sample("dvpn_build_info", {{"version", version}}, 1);
  render_connections(out, registry, snapshot);
  render_endpoints(out, snapshot);
  out.family("dvpn_hosts_reloads_total", "counter",
             "Hosts-map reloads (SIGHUP or file change), by result; a failed one keeps the previous map.");
  out.sample("dvpn_hosts_reloads_total", {{"result", "ok"}}, number(registry.reloads_ok()));
  out.sample("dvpn_hosts_reloads_total", {{"result", "failed"}}, number(registry.reloads_failed()));
  out.family("dvpn_sites", "gauge", "Sites in the hosts map in use.");
  out.sample("dvpn_sites", {}, number(snapshot.sites));
  return out.text();
}

}  // namespace dvpn::metrics
