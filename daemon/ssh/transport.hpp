#pragma once
// The byte stream one SSH session runs over. Today a TCP connection to the
// far end's sshd; the seam exists so a session can also run inside a channel
// of another session (a site reached through a relay). Completion handlers
// run on the session's strand.
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace dvpn::ssh {

class Transport {
 public:
  using Handler = std::function<void(const boost::system::error_code&, std::size_t)>;
  virtual ~Transport() = default;
  // Completes once read_now() has bytes (or an error, or the end) to give.
  // Reading only then lets an idle session hold no input buffer at all.
  virtual void wait_readable(Handler done) = 0;
  // What can be read now without waiting: 0 with would_block if nothing.
  virtual std::size_t read_now(boost::asio::mutable_buffer buffer, boost::system::error_code& ec) = 0;
  // At most one wait and one write are outstanding at a time.
  virtual void write_all(boost::asio::const_buffer buffer, Handler done) = 0;
  virtual void close() = 0;
  // The descriptor libssh2 is told about (it only toggles its blocking mode; -1 if none).
  virtual int descriptor() const = 0;
  // Input arrived: acknowledge at once (for TCP, no delayed ACK holding up the far end's window).
  virtual void after_read() {}
  // The round-trip time to the far end as the transport knows it (for TCP,
  // the kernel's smoothed RTT); nullopt if it has none. On the strand.
  virtual std::optional<std::chrono::microseconds> rtt() const { return std::nullopt; }
  // Appended to "lost"/"sending failed" errors: what the transport knows of
  // why it ended ("; relay ...: far-end-refused: ..."), or "".
  virtual std::string why_lost() const { return {}; }
};

// A stream socket, non-blocking, whose handlers run on its executor (the session's strand).
class SocketTransport : public Transport {
 public:
  explicit SocketTransport(boost::asio::ip::tcp::socket socket);
  void wait_readable(Handler done) override;
  std::size_t read_now(boost::asio::mutable_buffer buffer, boost::system::error_code& ec) override;
  void write_all(boost::asio::const_buffer buffer, Handler done) override;
  void close() override;
  int descriptor() const override;

 protected:
  boost::asio::ip::tcp::socket socket_;
  int fd_;
};

class TcpTransport final : public SocketTransport {
 public:
  // Takes a connected socket and sets it up for SSH: no Nagle, a bounded
  // unsent queue, dead-peer detection when `keepalive` is non-zero.
  TcpTransport(boost::asio::ip::tcp::socket socket, std::chrono::milliseconds keepalive);
  void after_read() override;
  std::optional<std::chrono::microseconds> rtt() const override;
};

}  // namespace dvpn::ssh
