#include "registry.hpp"

namespace dvpn::pool {

std::shared_ptr<EndpointPool> Registry::get(const SshEndpoint& key) {
  std::string name = key.to_string();
  std::lock_guard lock(mu_);
  auto& pool = pools_[name];
  if (!pool) pool = std::make_shared<EndpointPool>(io_, key, settings_, limits_);
  return pool;
}

void Registry::for_each(const std::function<void(EndpointPool&)>& fn) {
  std::lock_guard lock(mu_);
  for (auto& [name, pool] : pools_) fn(*pool);
}

}  // namespace dvpn::pool
