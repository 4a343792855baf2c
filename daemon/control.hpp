#pragma once
// The control socket: a Unix socket that answers "status" or "status json"
// with the status view, and "metrics" with the Prometheus metrics page. Mode 0600: only root (and the daemon's own account)
// may look.
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <string>

#include "status.hpp"

namespace dvpn {

class ControlServer {
 public:
  // Binds the socket (replacing a stale one); throws std::runtime_error on failure.
  ControlServer(boost::asio::io_context& io, std::string path, std::function<StatusSnapshot()> snapshot,
                std::function<std::string()> metrics);
  ~ControlServer();

 private:
  void accept_next();

  std::string path_;
  std::function<StatusSnapshot()> snapshot_;
  std::function<std::string()> metrics_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;  // pause after a failed accept (EMFILE)
};

// `dvpnd --status`: asks the running daemon and prints its answer; returns the exit code.
int print_status(const std::string& socket_path, bool json);
// `dvpnd --metrics`: the same for the metrics page.
int print_metrics(const std::string& socket_path);

}  // namespace dvpn
