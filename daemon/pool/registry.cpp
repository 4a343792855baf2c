#include "registry.hpp"

#include <algorithm>

#include "relay_dial.hpp"

namespace dvpn::pool {

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

std::shared_ptr<EndpointPool> Registry::pool_for(const std::vector<SshPath>& paths) {
  std::shared_ptr<EndpointPool> first;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    auto pool = get(paths[i]);
    if (!first) first = pool;
    if (!pool->failing()) return pool;
    // Only a path whose connections a later one takes probes in the
    // background; a site's only path retries when a connection asks.
    if (i + 1 < paths.size()) pool->keep_probing();
  }
  return first;
}

bool Registry::submit_next(const SshPath& from, const std::shared_ptr<ssh::Tunnel>& tunnel) {
  const auto& paths = tunnel->connection().target().paths;
  auto it = std::find(paths.begin(), paths.end(), from);
  if (it == paths.end() || std::next(it) == paths.end()) return false;
  get(from)->keep_probing();
  tunnel->restart_deadline(limits_.connect_timeout);
  get(*std::next(it))->submit(tunnel);
  return true;
}

void Registry::for_each(const std::function<void(EndpointPool&)>& fn) {
  std::lock_guard lock(mu_);
  for (auto& [name, pool] : pools_) fn(*pool);
}

}  // namespace dvpn::pool
