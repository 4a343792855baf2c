#include "transport.hpp"

#include <boost/asio/write.hpp>

#include "net/socket_options.hpp"

namespace dvpn::ssh {
namespace {

// Bytes the kernel may hold unsent: enough to fill the path, few enough that
// "congested" shows in our own queue, where channels take turns.
constexpr int unsent_limit = 128 * 1024;

}  // namespace

SocketTransport::SocketTransport(boost::asio::ip::tcp::socket socket)
    : socket_(std::move(socket)), fd_(socket_.native_handle()) {
  boost::system::error_code ignored;
  socket_.non_blocking(true, ignored);
}

void SocketTransport::wait_readable(Handler done) {
  socket_.async_wait(boost::asio::socket_base::wait_read,
                     [done = std::move(done)](const boost::system::error_code& ec) { done(ec, 0); });
}

std::size_t SocketTransport::read_now(boost::asio::mutable_buffer buffer, boost::system::error_code& ec) {
  return socket_.read_some(buffer, ec);
}

void SocketTransport::write_all(boost::asio::const_buffer buffer, Handler done) {
  boost::asio::async_write(socket_, buffer, std::move(done));
}

void SocketTransport::close() {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

int SocketTransport::descriptor() const { return fd_; }

TcpTransport::TcpTransport(boost::asio::ip::tcp::socket socket, std::chrono::milliseconds keepalive)
    : SocketTransport(std::move(socket)) {
  net::set_no_delay(fd_);
  net::set_unsent_limit(fd_, unsent_limit);
  if (keepalive.count() > 0) net::set_dead_peer_detection(fd_, keepalive);
}

std::optional<std::chrono::microseconds> TcpTransport::rtt() const {
  if (!socket_.is_open()) return std::nullopt;
  return net::smoothed_rtt(fd_);
}

void TcpTransport::after_read() {
  if (socket_.is_open()) net::set_quick_ack(fd_);
}

}  // namespace dvpn::ssh
