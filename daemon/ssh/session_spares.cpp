// Session channels opened ahead, for netcat mode.
//
// libssh2 1.10 opens one channel at a time per session, a round trip each,
// so twenty connections at once would wait twenty round trips for their
// channels. A session that carries netcat connections keeps a few session
// channels open without a command; a connection takes one and only starts
// its command (exec), and execs run in parallel, each on its own channel.
// Spares are opened only when no connection's open is waiting (they never
// delay one), and never beyond the far end's session-channel limit. A
// session starts with two (at its first netcat connection, or as soon as it
// is ready if its pool has carried netcat before: warm sessions) and keeps
// one more each time a connection finds none left, up to eight.
#include <boost/asio/post.hpp>

#include "errors.hpp"
#include "log.hpp"
#include "session.hpp"
#include "tunnel.hpp"

namespace dvpn::ssh {

bool Session::take_spare(const std::shared_ptr<Tunnel>& tunnel) {
  if (tunnel->mode() != hostsdb::Mode::netcat) return false;
  if (!netcat_seen_) keep_spares();
  if (spares_.empty()) {
    // A burst used them all: keep one more ready next time.
    if (spare_target_ < settings_->spare_channels_max) spare_target_++;
    return false;
  }
  tunnel->take_channel(spares_.back());
  spares_.pop_back();
  execs_.push_back(tunnel);
  if (execs_.size() == 1) arm_open_deadline();
  pump();
  return true;
}

void Session::expect_netcat() {
  boost::asio::post(strand_, [self = shared_from_this()] {
    if (self->netcat_seen_) return;
    self->keep_spares();
    self->maybe_open_spare();
  });
}

void Session::keep_spares() {
  netcat_seen_ = true;
  spare_target_ = settings_->spare_channels;
}

void Session::maybe_open_spare() {
  if (!netcat_seen_ || spare_opening_ || state_ != State::ready || !opens_.empty() ||
      spares_.size() >= spare_target_)
    return;
  // Every channel of ours counts against the far end's limit (MaxSessions counts session channels only,
  // but a mix of modes is rare, and too few spares cost only the open they would have saved).
  if (tunnels_.size() + execs_.size() + spares_.size() + 1 >= settings_->exec_channels) return;
  spare_opening_ = true;
  step_spare_open();
}

bool Session::step_spare_open() {
  LIBSSH2_CHANNEL* channel =
      libssh2_channel_open_ex(ssh_, "session", 7, window::floor_window, channel_max_packet, nullptr, 0);
  if (!channel) {
    const int rc = libssh2_session_last_errno(ssh_);
    if (rc == LIBSSH2_ERROR_EAGAIN) return false;
    spare_opening_ = false;
    note_partial_read();
    if (!is_channel_error(rc)) {
      fail("opening a spare channel: " + last_error(ssh_));
      return false;
    }
    // The far end has no slot for it: no spares on this session for now.
    DVPN_LOG(debug) << peer() << ": far end refused a spare session channel: " << last_error(ssh_);
    netcat_seen_ = false;
    return true;
  }
  spare_opening_ = false;
  note_partial_read();
  spares_.push_back(channel);
  return true;
}

void Session::step_execs() {
  for (std::size_t i = 0; i < execs_.size() && state_ == State::ready;) {
    std::shared_ptr<Tunnel> tunnel = execs_[i];
    const Tunnel::OpenResult result = tunnel->try_open();
    if (result == Tunnel::OpenResult::pending) {
      ++i;
      continue;
    }
    execs_.erase(execs_.begin() + static_cast<std::ptrdiff_t>(i));
    if (!finish_open(std::move(tunnel), static_cast<int>(result))) return;
  }
  maybe_open_spare();
}

}  // namespace dvpn::ssh
