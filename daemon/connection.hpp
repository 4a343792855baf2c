#pragma once
// One redirected client connection from accept to its single log line: who,
// where to, how many bytes, how long, and how it ended.
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

#include "metrics/registry.hpp"
#include "route_table.hpp"
#include "target.hpp"

namespace dvpn {

// Counts live connections (for max_connections) and knows their sockets, so
// a shutdown past its grace period can reset them all at once.
class ConnectionTracker {
 public:
  unsigned live() const noexcept { return live_.load(std::memory_order_relaxed); }
  void add(int fd);           // a connection was accepted
  void forget_fd(int fd);     // its socket is about to close (the number may be reused)
  void remove();              // the connection is gone
  // Arms RST-on-close on every live client socket (end of shutdown grace).
  void reset_all();

 private:
  std::atomic<unsigned> live_{0};
  std::mutex mu_;
  std::unordered_set<int> fds_;
};

// How a connection ended; `reset` decides between FIN and RST for the client.
struct Ending {
  std::string reason;  // "ok", "no-site", "far-end-refused: ...", ...
  bool reset = false;
  bool quiet = false;  // log at debug level (a rate limit already spoke for it)
};

class Connection {
 public:
  using tcp = boost::asio::ip::tcp;

  Connection(tcp::socket client, const tcp::endpoint& peer, std::shared_ptr<ConnectionTracker> tracker,
             std::shared_ptr<metrics::Registry> metrics);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  tcp::socket& client() noexcept { return client_; }
  // Attaches where the connection goes (the table keeps target.site alive).
  void set_target(Target target, hostsdb::RouteTablePtr table);
  const Target& target() const noexcept { return target_; }
  const std::string& client_text() const noexcept { return client_text_; }
  // The LAN client's address, as accept() returned it.
  const tcp::endpoint& client_endpoint() const noexcept { return peer_; }
  std::chrono::steady_clock::time_point started() const noexcept { return started_; }
  std::string destination_text() const;
  // The site's name as log lines and metrics give it ("" without a site).
  std::string site_text() const;
  // Its channel is open: counts accept-to-open in the metrics.
  void channel_opened();
  // It had a channel open at some point (thread-safe: a probe's timer asks).
  bool channel_was_opened() const noexcept { return opened_.load(std::memory_order_acquire); }

  std::uint64_t bytes_up = 0;    // client -> far end
  std::uint64_t bytes_down = 0;  // far end -> client

  // Closes the client socket (graceful or RST) and logs the one line. Idempotent.
  void finish(Ending ending);
  bool finished() const noexcept { return finished_; }
  // Called by finish() with the ending, which it may change, before the log
  // line (a relay's carrier channel tells its inner session why it ended and
  // logs its own line at debug level).
  void on_finish(std::function<void(Ending&)> fn) { on_finish_ = std::move(fn); }

 private:
  tcp::socket client_;
  std::shared_ptr<ConnectionTracker> tracker_;
  std::shared_ptr<metrics::Registry> metrics_;
  int fd_ = -1;
  tcp::endpoint peer_;
  std::string client_text_;
  Target target_;
  hostsdb::RouteTablePtr table_;
  std::string original_dst_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  bool finished_ = false;
  std::atomic<bool> opened_{false};
  bool site_counted_ = false;  // metrics' connection_started was called
  std::function<void(Ending&)> on_finish_;
};

}  // namespace dvpn
