#pragma once
// relay_listen (dvpn.yaml(5)): a gateway behind NAT keeps one SSH session to
// a relay, has it listen on 127.0.0.1:PORT of the relay (tcpip-forward), and
// connects every forwarded-tcpip channel to `to` (its own sshd), so that
// other sites reach it with a RELAY>127.0.0.1:PORT path.
//
// The session is an ordinary ssh::Session (same identity, known_hosts and
// host-key policy); each forwarded connection is an ordinary Tunnel on it
// (backpressure, exact half-close), adopted with its channel already open.
// When the session ends, a new one follows after a backoff (1 s doubling to
// 30 s, back to 1 s once listening); a refused tcpip-forward (the relay may
// hold the port of a silently dead session for a while) is retried on the
// same session with the same backoff.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "config.hpp"
#include "connection.hpp"
#include "ssh/session.hpp"
#include "target.hpp"

namespace dvpn {

class RelayListener : public std::enable_shared_from_this<RelayListener> {
 public:
  using Clock = std::chrono::steady_clock;
  struct Status {
    std::string relay;  // user@host:port
    std::uint16_t port = 0;
    std::string to;     // ADDRESS:PORT
    bool up = false;    // the relay listens for us
    std::optional<Clock::time_point> up_since;
    std::string last_error;
    std::optional<Clock::time_point> last_error_at;
    std::uint64_t connections = 0;  // forwarded connections accepted so far
  };

  RelayListener(boost::asio::io_context& io, SshEndpoint relay, const config::RelayListen& entry,
                std::shared_ptr<const ssh::SessionSettings> settings);
  void start();
  void stop();
  // The host's network changed (net::LinkWatcher): the session ends now if
  // its address went away; with `gained`, a reconnect waiting out its
  // backoff starts at once and the backoff starts over. Thread-safe.
  void network_changed(bool gained);
  Status status() const;  // thread-safe

 private:
  void connect();
  void on_event(const ssh::SessionEvent& event);  // on strand_
  void on_listening(const std::string& error);    // on strand_
  void accept(const std::shared_ptr<ssh::Session>& session, LIBSSH2_CHANNEL* channel);  // on the session's strand
  void failed(const std::string& why);  // down, and the next try after the backoff
  void request_listen();
  std::chrono::milliseconds next_backoff();

  boost::asio::io_context& io_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::steady_timer retry_timer_;
  SshEndpoint relay_;
  std::uint16_t port_;
  hostsdb::IpEndpoint to_;
  std::shared_ptr<const ssh::SessionSettings> settings_;
  // Forwarded connections count toward nothing of the redirecting side.
  std::shared_ptr<ConnectionTracker> tracker_ = std::make_shared<ConnectionTracker>();
  std::shared_ptr<metrics::Registry> metrics_ = std::make_shared<metrics::Registry>();

  // On strand_:
  std::shared_ptr<ssh::Session> session_;
  bool session_ready_ = false;
  bool stopped_ = false;
  std::chrono::milliseconds backoff_{0};

  mutable std::mutex mu_;  // the status, written on strand_
  Status status_;
};

}  // namespace dvpn
