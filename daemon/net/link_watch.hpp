#pragma once
// Watches this host's addresses, routes and links (rtnetlink multicast) and
// calls back when they change, a burst of changes coalesced: a roaming
// gateway finds its dead sessions and retries its handshakes when the
// network changes, instead of waiting for keepalives and backoffs.
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
  // A burst's first message is answered at once, the rest together once
  // none came for `quiet` (an `ip addr add` brings its address and the
  // subnet's route in two messages; a deleted address's local route goes
  // just after its message), or max_delay after the last answer, so a
  // flapping link costs a few calls a second at most.
  static constexpr std::chrono::milliseconds quiet{150};
  static constexpr std::chrono::milliseconds max_delay{1000};

  LinkWatcher(boost::asio::io_context& io, std::function<void(LinkChange)> on_change);
  LinkWatcher(const LinkWatcher&) = delete;
  LinkWatcher& operator=(const LinkWatcher&) = delete;

 private:
  void wait();
  void drain();  // reads every message there is, without blocking
  void note(const LinkChange& change);
  void on_quiet();
  void fire(const LinkChange& change);

  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::posix::stream_descriptor socket_;
  boost::asio::steady_timer quiet_timer_;
  std::function<void(LinkChange)> on_change_;
  // One multicast datagram holds whole messages; this fits any sent for these groups.
  std::vector<char> buffer_ = std::vector<char>(32 * 1024);
  LinkChange pending_;  // seen since the last call
  std::optional<std::chrono::steady_clock::time_point> burst_started_;  // or since the last call within the burst
};

}  // namespace dvpn::net
