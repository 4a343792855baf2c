// Opening a Tunnel's channel: direct-tcpip, or a session channel running the
// far-end command (netcat mode).
#include "errors.hpp"
#include "tunnel.hpp"

namespace dvpn::ssh {
namespace {

// The direct-tcpip open request: host, port, originator address and port (RFC 4254 7.2).
std::string direct_tcpip_message(const std::string& host, std::uint16_t port, const std::string& from,
                                 std::uint16_t from_port) {
  std::string msg;
  auto put_u32 = [&](std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) msg += static_cast<char>((v >> shift) & 0xff);
  };
  auto put_string = [&](const std::string& s) {
    put_u32(static_cast<std::uint32_t>(s.size()));
    msg += s;
  };
  put_string(host);
  put_u32(port);
  put_string(from);
  put_u32(from_port);
  return msg;
}

}  // namespace

void drain_before_request(LIBSSH2_CHANNEL* channel, std::vector<char>& scratch) {
  libssh2_channel_read(channel, scratch.data(), 0);
}

Tunnel::OpenResult Tunnel::try_open() {
  OpenResult result = open_channel();
  // A call that ended in EAGAIN decoded everything buffered; one that found
  // its reply may have stopped early.
  if (result != OpenResult::pending) host_->note_partial_read();
  return result;
}

Tunnel::OpenResult Tunnel::open_channel() {
  LIBSSH2_SESSION* ssh = host_->handle();
  const Target& target = connection_->target();
  if (!channel_) {
    if (target.mode == hostsdb::Mode::direct) {
      // Built once: the open is retried until the far end answers.
      if (open_message_.empty()) {
        const boost::asio::ip::tcp::endpoint& peer = connection_->client_endpoint();
        const std::string host = target.direct_host.empty() ? target.ip.to_string() : target.direct_host;
        open_message_ = direct_tcpip_message(host, target.port, peer.address().to_string(), peer.port());
      }
      // libssh2 1.10's direct_tcpip_ex hard-codes a 2 MiB window; the generic open lets us choose.
      channel_ = libssh2_channel_open_ex(ssh, "direct-tcpip", 12, window::floor_window, channel_max_packet,
                                         open_message_.data(), static_cast<unsigned>(open_message_.size()));
    } else {
      channel_ = libssh2_channel_open_ex(ssh, "session", 7, window::floor_window, channel_max_packet, nullptr, 0);
    }
    if (!channel_) {
      int rc = libssh2_session_last_errno(ssh);
      if (rc == LIBSSH2_ERROR_EAGAIN) return OpenResult::pending;
      open_error_ = last_error(ssh);
      return is_channel_error(rc) ? OpenResult::refused : OpenResult::session_broken;
    }
  }
  if (target.mode == hostsdb::Mode::netcat && !exec_started_) {
    drain_before_request(channel_, host_->scratch());
    int rc = libssh2_channel_process_startup(channel_, "exec", 4, target.command.data(),
                                             static_cast<unsigned>(target.command.size()));
    if (rc == LIBSSH2_ERROR_EAGAIN) return OpenResult::pending;
    if (rc < 0) {
      open_error_ = "far end refused to run \"" + target.command + "\": " + last_error(ssh);
      if (!is_channel_error(rc)) return OpenResult::session_broken;
      libssh2_channel_free(channel_);
      channel_ = nullptr;
      return OpenResult::refused;
    }
    exec_started_ = true;
  }
  state_ = State::open;
  if (abandoned_) {
    begin_close({"abandoned", true});
    return OpenResult::opened;
  }
  connection_->channel_opened();
  boost::system::error_code ec;
  connection_->client().non_blocking(true, ec);
  budget_ = host_->window_budget();
  grow_window_to(window::first_target);
  epoch_start_ = Clock::now();
  return OpenResult::opened;
}

void Tunnel::adopt_open(ChannelHost& host, LIBSSH2_CHANNEL* channel) {
  host_ = &host;
  channel_ = channel;
  state_ = State::open;
  connection_->channel_opened();
  boost::system::error_code ec;
  connection_->client().non_blocking(true, ec);
  // The far end chose this channel's window (libssh2's default for an
  // accepted channel): it is kept as it is, outside the budget.
  budget_ = host.window_budget();
  window_target_ = static_cast<std::uint32_t>(libssh2_channel_window_read_ex(channel, nullptr, nullptr));
}

bool Tunnel::pull_input() {
  if (state_ != State::open) return false;
  ssize_t rc = libssh2_channel_read(channel_, host_->scratch().data(), 0);
  if (rc < 0 && rc != LIBSSH2_ERROR_EAGAIN && !is_channel_error(static_cast<int>(rc)))
    host_->fail("reading SSH input: " + last_error(host_->handle()));
  return true;
}

}  // namespace dvpn::ssh
