#pragma once
// Finds and connects the TCP path to an SSH endpoint. A name goes to
// getaddrinfo on a thread of its own (never behind another lookup); an IP
// literal skips it. Every address is tried in getaddrinfo's order, each with
// an equal share of the setup time left (the last one all of it), so a dead
// first address cannot eat all of connect_timeout.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "target.hpp"

namespace dvpn::ssh {

class TcpDialer : public std::enable_shared_from_this<TcpDialer> {
 public:
  using tcp = boost::asio::ip::tcp;
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;
  using TimePoint = boost::asio::steady_timer::clock_type::time_point;
  // Called once, on the strand, unless cancel() came first: a connected
  // socket, or an empty error-free optional with `error` saying why not.
  using Done = std::function<void(std::optional<tcp::socket>, const std::string& error)>;

  TcpDialer(Strand& strand, SshEndpoint key, std::string log_prefix, TimePoint deadline, Done done);
  void start();
  void cancel();
  bool resolving() const noexcept { return stage_ == Stage::resolving; }
  // "ADDR: why; ..." of the attempts so far (just "why" with one address).
  const std::string& errors() const noexcept { return errors_; }

 private:
  enum class Stage { idle, resolving, connecting, done };
  void on_resolved(int gai_error, std::vector<tcp::endpoint> endpoints);
  void connect_next();
  void on_connected(const boost::system::error_code& ec, unsigned attempt);
  void finish(std::optional<tcp::socket> socket, const std::string& error);

  Strand& strand_;
  SshEndpoint key_;
  std::string log_prefix_;  // "session N to user@host:port"
  TimePoint deadline_;
  Done done_;
  Stage stage_ = Stage::idle;
  tcp::socket socket_;
  boost::asio::steady_timer attempt_timer_;  // bound of the current attempt
  std::vector<tcp::endpoint> endpoints_;
  std::size_t next_ = 0;
  unsigned attempt_ = 0;  // tells a stale attempt's completion apart
  bool attempt_timed_out_ = false;
  std::string errors_;
};

}  // namespace dvpn::ssh
