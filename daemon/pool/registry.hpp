#pragma once
// Every endpoint pool, by path (its to_string(): "user@host:port", or
// "relay>target", so two targets behind different relays never share one). Pools are created on first use, so the
// daemon's cost follows the sites that carry traffic, not the size of the map.
//
// A site with several paths: a connection goes to the first path that is
// neither failing (no session, its last handshake failed) nor unhealthy (its
// far end cannot reach the site: health.hpp, judged by probes, probe.hpp).
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "endpoint_pool.hpp"
#include "health.hpp"

namespace dvpn::pool {

class Registry {
 public:
  Registry(boost::asio::io_context& io, std::shared_ptr<const ssh::SessionSettings> settings, Limits limits,
           Duration probe_interval);

  // The pool of one path; a relayed path (`relay>target`) has its own, whose
  // sessions run inside channels of the relay's pool (relay_dial.hpp).
  std::shared_ptr<EndpointPool> get(const SshPath& key);
  // Carries a LAN connection over the path its site uses now.
  void submit(std::shared_ptr<ssh::Tunnel> tunnel);
  // Which of a site's paths new connections take now, and why not the ones
  // before it ("path 1 failing: ...; ..."), for the status view.
  struct Route {
    std::size_t index = 0;
    std::string why;
  };
  Route route(const std::string& site, const std::vector<SshPath>& paths);
  void for_each(const std::function<void(EndpointPool&)>& fn);

 private:
  std::shared_ptr<EndpointPool> find(const SshPath& key);
  bool failing(const SshPath& key);
  // A connection `from`'s pool gave up on goes to its next path, with a fresh connect_timeout.
  bool submit_next(const SshPath& from, const std::shared_ptr<ssh::Tunnel>& tunnel);
  // Hands the tunnel to `path`'s pool; its end is evidence about that path.
  void submit_on(const std::string& site, const SshPath& path, const std::shared_ptr<ssh::Tunnel>& tunnel);
  void start(HealthBook::Probe probe);
  void arm_tick();

  boost::asio::io_context& io_;
  std::shared_ptr<const ssh::SessionSettings> settings_;
  Limits limits_;

  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<EndpointPool>> pools_;

  std::mutex health_mu_;  // the book and the tick (may be held while taking mu_, not the other way round)
  HealthBook health_;
  Duration probe_interval_;
  boost::asio::steady_timer tick_;
  bool ticking_ = false;
};

}  // namespace dvpn::pool
