#pragma once
// The running daemon: listeners, the accept loop, the route table and its
// reloads, the gateway pools, signals and the drain on shutdown.
//
// Threads: one io_context run by one thread per core. Every SSH session (with
// its channels and their client sockets) and every gateway pool has its own
// strand, so different sessions run in parallel and no session can hold up
// another's; accepts run on whichever thread is free.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>
#include <vector>

#include "config.hpp"
#include "connection.hpp"
#include "control.hpp"
#include "pool/registry.hpp"
#include "relay_listen.hpp"
#include "hosts_watch.hpp"
#include "metrics/http.hpp"
#include "metrics/registry.hpp"
#include "net/link_watch.hpp"
#include "route_table.hpp"

namespace dvpn {

class Server {
 public:
  // Binds the listeners (throws std::runtime_error with the address on failure).
  Server(config::Config cfg, hostsdb::RouteTablePtr table);
  ~Server();
  // Runs until SIGTERM/SIGINT and the drain are over; returns the exit code.
  int run();

 private:
  using tcp = boost::asio::ip::tcp;

  void bind(const std::string& listen);
  struct Listener;
  void accept_next(Listener& listener);
  void on_accepted(tcp::socket socket, const tcp::endpoint& peer);
  void reload_hosts(const char* why);
  void network_changed(const net::LinkChange& change);
  void wait_signals();
  void begin_shutdown();
  void check_drained();
  StatusSnapshot snapshot();
  std::string metrics_page();

  config::Config cfg_;
  boost::asio::io_context io_;
  std::atomic<hostsdb::RouteTablePtr> table_;
  std::shared_ptr<ConnectionTracker> tracker_ = std::make_shared<ConnectionTracker>();
  std::shared_ptr<metrics::Registry> metrics_ = std::make_shared<metrics::Registry>();
  std::unique_ptr<pool::Registry> gateways_;
  std::vector<std::shared_ptr<RelayListener>> relay_listeners_;  // relay_listen, in the config's order
  // An acceptor and the peer address its pending accept fills in (from
  // accept4 itself: no getpeername per connection).
  struct Listener {
    explicit Listener(boost::asio::io_context& io) : acceptor(io) {}
    tcp::acceptor acceptor;
    tcp::endpoint peer;
  };
  std::vector<std::unique_ptr<Listener>> acceptors_;
  std::unique_ptr<HostsWatcher> watcher_;
  std::unique_ptr<net::LinkWatcher> link_watcher_;
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<metrics::HttpServer> metrics_http_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer drain_timer_;
  std::chrono::steady_clock::time_point drain_deadline_;
  std::atomic<bool> stopping_{false};  // read by accept handlers on every thread
};

}  // namespace dvpn
