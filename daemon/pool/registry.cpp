#include "registry.hpp"

#include "relay_dial.hpp"

namespace dvpn::pool {

std::shared_ptr<EndpointPool> Registry::get(const SshPath& key) {
  std::string name = key.to_string();
  std::lock_guard lock(mu_);
  auto& pool = pools_[name];
  if (!pool)
    pool = std::make_shared<EndpointPool>(io_, key, settings_, limits_,
                                          key.relay ? relay_dial(*this, io_, key, limits_.connect_timeout)
                                                    : ssh::Session::Dial{});
  return pool;
}

void Registry::for_each(const std::function<void(EndpointPool&)>& fn) {
  std::lock_guard lock(mu_);
  for (auto& [name, pool] : pools_) fn(*pool);
}

}  // namespace dvpn::pool
