#include "registry.hpp"

namespace dvpn::gateway {

std::shared_ptr<Gateway> Registry::get(const GatewayKey& key) {
  std::string name = key.to_string();
  std::lock_guard lock(mu_);
  auto& gateway = gateways_[name];
  if (!gateway) gateway = std::make_shared<Gateway>(io_, key, settings_, limits_);
  return gateway;
}

void Registry::for_each(const std::function<void(Gateway&)>& fn) {
  std::lock_guard lock(mu_);
  for (auto& [name, gateway] : gateways_) fn(*gateway);
}

}  // namespace dvpn::gateway
