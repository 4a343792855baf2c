#pragma once
// Every endpoint pool, by path (its to_string(): "user@host:port", or
// "relay>target", so two targets behind different relays never share one). Pools are created on first use, so the
// daemon's cost follows the sites that carry traffic, not the size of the map.
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "endpoint_pool.hpp"

namespace dvpn::pool {

class Registry {
 public:
  Registry(boost::asio::io_context& io, std::shared_ptr<const ssh::SessionSettings> settings, Limits limits)
      : io_(io), settings_(std::move(settings)), limits_(limits) {}

  // The pool of one path; a relayed path (`relay>target`) has its own, whose
  // sessions run inside channels of the relay's pool (relay_dial.hpp).
  std::shared_ptr<EndpointPool> get(const SshPath& key);
  // The pool for a connection: the first of its site's paths that is not
  // failing (the ones before it keep probing), or the first path if all are.
  std::shared_ptr<EndpointPool> pool_for(const std::vector<SshPath>& paths);
  void for_each(const std::function<void(EndpointPool&)>& fn);

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<const ssh::SessionSettings> settings_;
  Limits limits_;
  // A connection `from`'s pool gave up on goes to its next path, with a fresh connect_timeout.
  bool submit_next(const SshPath& from, const std::shared_ptr<ssh::Tunnel>& tunnel);

  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<EndpointPool>> pools_;
};

}  // namespace dvpn::pool
