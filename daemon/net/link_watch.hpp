#pragma once
// Watches this host's addresses, routes and links (rtnetlink multicast) and
// calls back once per burst of changes: a roaming gateway finds its dead
// sessions and retries its handshakes when the network changes, instead of
// waiting for keepalives and backoffs.
//
// Non-blocking, on its own strand. Without a netlink socket (a sandbox that
// forbids it) it logs once and never calls back: dvpnd works as before.
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace dvpn::net {

struct LinkChange {
  bool gained = false;  // an address, route or link appeared or changed: the network may be back
  bool lost = false;    // an address or route went away: sessions bound to it are dead
  LinkChange& operator|=(const LinkChange& other) {
    gained |= other.gained;
    lost |= other.lost;
    return *this;
  }
  bool any() const noexcept { return gained || lost; }
};

// What one rtnetlink message type means (pure; nothing for types not watched).
LinkChange link_change_of(std::uint16_t nlmsg_type);

class LinkWatcher {
 public:
  // A burst ends this long after its last message (an `ip addr add` brings
  // its address and the subnet's route in two messages), or at most
  // max_delay after its first, so a flapping link still gets answers.
  static constexpr std::chrono::milliseconds quiet{150};
  static constexpr std::chrono::milliseconds max_delay{1000};

  LinkWatcher(boost::asio::io_context& io, std::function<void(LinkChange)> on_change);
  LinkWatcher(const LinkWatcher&) = delete;
  LinkWatcher& operator=(const LinkWatcher&) = delete;

 private:
  void wait();
  void drain();  // reads every message there is, without blocking
  void note(const LinkChange& change);
  void fire();

  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::posix::stream_descriptor socket_;
  boost::asio::steady_timer quiet_timer_;
  std::function<void(LinkChange)> on_change_;
  // One multicast datagram holds whole messages; this fits any sent for these groups.
  std::vector<char> buffer_ = std::vector<char>(32 * 1024);
  LinkChange pending_;
  std::optional<std::chrono::steady_clock::time_point> burst_started_;
};

}  // namespace dvpn::net
