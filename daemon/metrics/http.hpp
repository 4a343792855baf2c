#pragma once
// The metrics_listen HTTP listener: answers GET /metrics with the metrics
// page, 404 for other paths, 405 for other methods, one request per
// connection. Meant for loopback (dvpn.yaml(5)); it has no authentication.
//
// A client cannot hold the daemon up: everything runs asynchronously on the
// io_context (each client on its own strand), the request head is limited
// to 8 KiB, each client gets 10 s in all, and at most 16 are served at once
// (more are closed at accept).
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace dvpn::metrics {

// The reply to one request head (pure, for the unit tests): status line,
// headers and body.
std::string http_reply(const std::string& head, const std::function<std::string()>& page);

class HttpServer {
 public:
  // Binds and listens; throws std::runtime_error naming the address on failure.
  HttpServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
             std::function<std::string()> page);
  ~HttpServer();

 private:
  void accept_next();

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  std::shared_ptr<const std::function<std::string()>> page_;
  std::shared_ptr<std::atomic<unsigned>> clients_ = std::make_shared<std::atomic<unsigned>>(0);
};

}  // namespace dvpn::metrics
