#include "registry.hpp"

#include <algorithm>

#include "log.hpp"
#include "probe.hpp"
#include "relay_dial.hpp"

namespace dvpn::pool {

// Locks: health_mu_ may be held while taking mu_ (the book asks which paths
// are failing), never the other way round; neither is held while a tunnel
// or a probe is handed to a pool.

Registry::Registry(boost::asio::io_context& io, std::shared_ptr<const ssh::SessionSettings> settings, Limits limits,
                   Duration probe_interval)
    : io_(io),
      settings_(std::move(settings)),
      limits_(limits),
      health_(probe_interval),
      probe_interval_(probe_interval),
      tick_(io) {}

std::shared_ptr<EndpointPool> Registry::get(const SshPath& key) {
  std::string name = key.to_string();
  std::lock_guard lock(mu_);
  auto& pool = pools_[name];
  if (!pool) {
    pool = std::make_shared<EndpointPool>(io_, key, settings_, limits_,
                                          key.relay ? relay_dial(*this, io_, key, limits_.connect_timeout)
                                                    : ssh::Session::Dial{});
    // The registry lives as long as the daemon (dvpnd _exits with it).
    pool->set_fallback([this, key](const std::shared_ptr<ssh::Tunnel>& tunnel) { return submit_next(key, tunnel); });
  }
  return pool;
}

std::shared_ptr<EndpointPool> Registry::find(const SshPath& key) {
  std::lock_guard lock(mu_);
  auto it = pools_.find(key.to_string());
  return it == pools_.end() ? nullptr : it->second;
}

bool Registry::failing(const SshPath& key) {
  auto pool = find(key);
  return pool && pool->failing();
}

void Registry::submit(std::shared_ptr<ssh::Tunnel> tunnel) {
  const auto& paths = tunnel->connection().target().paths;
  if (paths.size() == 1) {
    get(paths.front())->submit(std::move(tunnel));
    return;
  }
  const std::string site = tunnel->connection().site_text();
  std::size_t index;
  {
    std::lock_guard lock(health_mu_);
    health_.used(site, paths, Clock::now());
    index = health_.choose(site, paths, [this](const SshPath& p) { return failing(p); });
    arm_tick();
  }
  // A failing path whose connections a later one takes retries its
  // handshake in the background (all failing: all but the last); a site's
  // only path retries when a connection asks.
  const bool all_failing = failing(paths[index]);
  for (std::size_t i = 0; i + 1 < paths.size() && (i < index || all_failing); ++i)
    if (failing(paths[i])) get(paths[i])->keep_probing();
  submit_on(site, paths[index], tunnel);
}

bool Registry::submit_next(const SshPath& from, const std::shared_ptr<ssh::Tunnel>& tunnel) {
  const auto& paths = tunnel->connection().target().paths;
  auto it = std::find(paths.begin(), paths.end(), from);
  if (it == paths.end() || std::next(it) == paths.end()) return false;
  const std::string site = tunnel->connection().site_text();
  // The next path that is not unhealthy, else simply the next one.
  auto next = std::next(it);
  {
    std::lock_guard lock(health_mu_);
    auto healthy = std::find_if(next, paths.end(), [&](const SshPath& p) { return !health_.unhealthy(site, p); });
    if (healthy != paths.end()) next = healthy;
  }
  get(from)->keep_probing();
  tunnel->restart_deadline(limits_.connect_timeout);
  submit_on(site, *next, tunnel);
  return true;
}

void Registry::submit_on(const std::string& site, const SshPath& path, const std::shared_ptr<ssh::Tunnel>& tunnel) {
  // Nothing else sets a LAN connection's on_finish (relay carriers are not
  // submitted here); a hand-off to another path replaces it. finish() runs
  // it while the connection is alive.
  Connection* connection = &tunnel->connection();
  connection->on_finish([this, site, path, connection](Ending& ending) {
    const Target& target = connection->target();
    const Evidence evidence = judge(target.mode, ending.reason, connection->channel_was_opened(), connection->bytes_down);
    std::optional<HealthBook::Probe> probe;
    {
      std::lock_guard lock(health_mu_);
      probe = health_.connection_ended(site, path, target, evidence, Clock::now());
    }
    if (probe) {
      DVPN_LOG(debug) << "site " << site << ": probing " << path.to_string() << " after " << ending.reason;
      start(std::move(*probe));
    }
  });
  get(path)->submit(tunnel);
}

void Registry::start(HealthBook::Probe probe) {
  auto pool = get(probe.path);
  std::string site = probe.site;
  SshPath path = probe.path;
  run_probe(io_, pool, std::move(probe.target), limits_.connect_timeout,
            [this, site = std::move(site), path = std::move(path)](Evidence evidence) {
              std::optional<HealthBook::Change> change;
              {
                std::lock_guard lock(health_mu_);
                change = health_.probe_ended(site, path, evidence);
              }
              DVPN_LOG(debug) << "site " << site << ": probe over " << path.to_string() << ": "
                              << (evidence.reach == Reach::reached       ? "reached"
                                  : evidence.reach == Reach::unreachable ? "unreachable: " + evidence.why
                                                                         : "no verdict");
              if (!change) return;
              if (change->unhealthy)
                DVPN_LOG(warning) << "site " << site << ": path " << path.to_string() << " unhealthy: " << change->why
                                  << "; new connections take the next path";
              else
                DVPN_LOG(info) << "site " << site << ": path " << path.to_string()
                               << " healthy again; new connections return to it";
            });
}

void Registry::arm_tick() {
  // Under health_mu_. One timer for every site; it stops when no site has
  // had a connection within probe_for.
  if (ticking_) return;
  ticking_ = true;
  tick_.expires_after(probe_interval_);
  tick_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    std::vector<HealthBook::Probe> probes;
    {
      std::lock_guard lock(health_mu_);
      ticking_ = false;
      const auto now = Clock::now();
      probes = health_.due(now, [this](const SshPath& p) { return failing(p); });
      if (health_.any_active(now)) arm_tick();
    }
    for (auto& probe : probes) start(std::move(probe));
  });
}

Registry::Route Registry::route(const std::string& site, const std::vector<SshPath>& paths) {
  Route route;
  if (paths.size() < 2) return route;
  std::lock_guard lock(health_mu_);
  route.index = health_.choose(site, paths, [this](const SshPath& p) { return failing(p); });
  for (std::size_t i = 0; i <= route.index; ++i) {
    std::string why;
    if (auto pool = find(paths[i]); pool && pool->failing()) why = "failing: " + pool->stats().last_error;
    else if (health_.unhealthy(site, paths[i])) why = "unhealthy: " + health_.why(site, paths[i]);
    if (why.empty()) continue;
    if (!route.why.empty()) route.why += "; ";
    route.why += "path " + std::to_string(i + 1) + " " + why;
  }
  return route;
}

void Registry::for_each(const std::function<void(EndpointPool&)>& fn) {
  std::lock_guard lock(mu_);
  for (auto& [name, pool] : pools_) fn(*pool);
}

}  // namespace dvpn::pool
