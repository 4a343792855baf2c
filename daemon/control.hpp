#pragma once
// The control socket: a Unix socket that answers "status" or "status json"
// with the status view. Mode 0600: only root (and the daemon's own account)
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
  ControlServer(boost::asio::io_context& io, std::string path, std::function<StatusSnapshot()> snapshot);
  ~ControlServer();

 private:
  void accept_next();

  std::string path_;
  std::function<StatusSnapshot()> snapshot_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;  // pause after a failed accept (EMFILE)
};

// `dvpnd --status`: asks the running daemon and prints its answer; returns the exit code.
int print_status(const std::string& socket_path, bool json);

}  // namespace dvpn
