#include "link_watch.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "log.hpp"

namespace dvpn::net {
namespace {

constexpr unsigned groups =
    RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;

// -1 with the reason in `error` if the socket cannot be had.
int open_socket(std::string& error) {
  const int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    error = std::strerror(errno);
    return -1;
  }
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  local.nl_groups = groups;
  if (bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
    error = std::strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

LinkChange link_change_of(std::uint16_t nlmsg_type) {
  switch (nlmsg_type) {
    case RTM_NEWADDR:
    case RTM_NEWROUTE:
    case RTM_NEWLINK:  // also a link going down; a retry that fails costs one handshake
      return {.gained = true};
    case RTM_DELADDR:
    case RTM_DELROUTE:
    case RTM_DELLINK:
      return {.lost = true};
    default:
      return {};
  }
}

LinkWatcher::LinkWatcher(boost::asio::io_context& io, std::function<void(LinkChange)> on_change)
    : strand_(boost::asio::make_strand(io)), socket_(strand_), quiet_timer_(strand_), on_change_(std::move(on_change)) {
  std::string error;
  const int fd = open_socket(error);
  if (fd < 0) {
    DVPN_LOG(warning) << "cannot watch address and route changes (netlink: " << error
                      << "); a vanished address is noticed by ssh.keepalive only";
    return;
  }
  socket_.assign(fd);
  DVPN_LOG(debug) << "watching addresses, routes and links (rtnetlink)";
  wait();
}

void LinkWatcher::wait() {
  socket_.async_wait(boost::asio::posix::descriptor_base::wait_read, [this](const boost::system::error_code& ec) {
    if (ec) return;  // closed with the watcher
    drain();
    wait();
  });
}

void LinkWatcher::drain() {
  for (;;) {
    const ssize_t n = recv(socket_.native_handle(), buffer_.data(), buffer_.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      // Messages were dropped (the queue overflowed): something changed, what is unknown.
      if (errno == ENOBUFS) note({.gained = true, .lost = true});
      return;  // EAGAIN: all read
    }
    LinkChange change;
    const auto size = static_cast<std::size_t>(n);
    for (std::size_t offset = 0; offset + sizeof(nlmsghdr) <= size;) {
      nlmsghdr header;
      std::memcpy(&header, buffer_.data() + offset, sizeof header);
      if (header.nlmsg_len < sizeof header || header.nlmsg_len > size - offset) break;  // truncated
      change |= link_change_of(header.nlmsg_type);
      offset += NLMSG_ALIGN(header.nlmsg_len);
    }
    if (change.any()) note(change);
  }
}

// The first message of a burst is acted on at once (a session whose address
// just went is dead now, a backoff after an address came is pointless now);
// what follows within the burst is coalesced into one more call once it is
// quiet, or each max_delay while it is not.
void LinkWatcher::note(const LinkChange& change) {
  const auto now = std::chrono::steady_clock::now();
  if (!burst_started_) {
    burst_started_ = now;
    fire(change);
  } else {
    pending_ |= change;
  }
  quiet_timer_.expires_at(std::min(now + quiet, *burst_started_ + max_delay));
  quiet_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) on_quiet();
  });
}

void LinkWatcher::on_quiet() {
  if (!pending_.any()) {
    burst_started_.reset();  // nothing since the last call: the burst is over
    return;
  }
  const LinkChange change = pending_;
  pending_ = {};
  // Still within a burst: the next messages coalesce again, and the burst
  // ends only once a quiet period brings nothing.
  burst_started_ = std::chrono::steady_clock::now();
  quiet_timer_.expires_after(quiet);
  quiet_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) on_quiet();
  });
  fire(change);
}

void LinkWatcher::fire(const LinkChange& change) {
  DVPN_LOG(debug) << "network changed (" << (change.gained ? "gained" : "") << (change.gained && change.lost ? ", " : "")
                  << (change.lost ? "lost" : "") << "): checking sessions";
  on_change_(change);
}

}  // namespace dvpn::net
