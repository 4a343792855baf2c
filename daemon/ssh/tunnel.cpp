#include "tunnel.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/write.hpp>

#include <cstring>

#include "errors.hpp"
#include "log.hpp"
#include "session.hpp"

namespace dvpn::ssh {
namespace {

constexpr std::size_t stderr_tail_max = 240;
constexpr std::uint32_t max_packet = 32768;  // above 40000 libssh2 1.10 fails (doc/ssh-notes.md §2)

bool would_block(const boost::system::error_code& ec) {
  return ec == boost::asio::error::would_block || ec == boost::asio::error::try_again;
}

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

std::string printable(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    else if (static_cast<unsigned char>(c) < 0x20) c = '?';
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

}  // namespace

Tunnel::Tunnel(std::unique_ptr<Connection> connection, Clock::time_point deadline)
    : connection_(std::move(connection)), deadline_(deadline) {}

Tunnel::~Tunnel() = default;

void Tunnel::reject(const std::string& reason) {
  state_ = State::released;
  connection_->finish({reason, true});
}

void Tunnel::abandon(const std::string& reason) {
  abandoned_ = true;
  connection_->finish({reason, true});
}

Tunnel::OpenResult Tunnel::try_open(Session& session) {
  OpenResult result = open_channel(session);
  // A call that ended in EAGAIN decoded everything buffered; one that found
  // its reply may have stopped early.
  if (result != OpenResult::pending) session.note_partial_read();
  return result;
}

Tunnel::OpenResult Tunnel::open_channel(Session& session) {
  LIBSSH2_SESSION* ssh = session.handle();
  const Target& target = connection_->target();
  if (!channel_) {
    if (target.mode == hostsdb::Mode::direct) {
      // Built once: the open is retried until the far end answers.
      if (open_message_.empty()) {
        const boost::asio::ip::tcp::endpoint& peer = connection_->client_endpoint();
        open_message_ = direct_tcpip_message(target.ip.to_string(), target.port, peer.address().to_string(), peer.port());
      }
      // libssh2 1.10's direct_tcpip_ex hard-codes a 2 MiB window; the generic open lets us choose.
      channel_ = libssh2_channel_open_ex(ssh, "direct-tcpip", 12, session.window_for_new_channel(), max_packet,
                                         open_message_.data(), static_cast<unsigned>(open_message_.size()));
    } else {
      channel_ = libssh2_channel_open_ex(ssh, "session", 7, session.window_for_new_channel(), max_packet, nullptr, 0);
    }
    if (!channel_) {
      int rc = libssh2_session_last_errno(ssh);
      if (rc == LIBSSH2_ERROR_EAGAIN) return OpenResult::pending;
      open_error_ = last_error(ssh);
      return is_channel_error(rc) ? OpenResult::refused : OpenResult::session_broken;
    }
  }
  if (target.mode == hostsdb::Mode::netcat && !exec_started_) {
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
    begin_close(session, {"abandoned", true});
    return OpenResult::opened;
  }
  connection_->channel_opened();
  boost::system::error_code ec;
  connection_->client().non_blocking(true, ec);
  return OpenResult::opened;
}

bool Tunnel::pull_input(Session& session) {
  if (state_ != State::open) return false;
  ssize_t rc = libssh2_channel_read(channel_, session.scratch().data(), 0);
  if (rc < 0 && rc != LIBSSH2_ERROR_EAGAIN && !is_channel_error(static_cast<int>(rc)))
    session.fail("reading SSH input: " + last_error(session.handle()));
  return true;
}

bool Tunnel::wants_step() const {
  if (state_ == State::closing) return true;
  if (state_ != State::open) return false;
  // Waiting for the far end's close or exit status: neither shows in the queue.
  if (remote_eof_ || awaiting_exit_status_) return true;
  // Client-side work no readiness wait is armed for.
  if ((!client_eof_ && !waiting_readable_) || up_rest_offset_ < up_rest_size_ || (client_eof_ && !eof_sent_))
    return true;
  // Non-zero also for libssh2's errors: then step() finds out.
  return libssh2_poll_channel_read(channel_, 1) != 0 || libssh2_channel_eof(channel_) != 0;
}

bool Tunnel::step(Session& session) {
  if (state_ == State::closing) {
    close_step(session);
    return false;
  }
  if (state_ != State::open) return false;
  bool more = relay_down(session);
  if (state_ == State::open) more |= relay_up(session);
  if (state_ == State::open) check_finished(session);
  return more && state_ == State::open;
}

bool Tunnel::relay_down(Session& session) {
  std::vector<char>& buf = session.scratch();
  for (int turn = 0; turn < turn_budget; ++turn) {
    if (writing_client_ || remote_eof_) return false;
    ssize_t n = libssh2_channel_read(channel_, buf.data(), buf.size());
    if (n > 0) {
      far_sent_data_ = true;
      connection_->bytes_down += static_cast<std::uint64_t>(n);
      last_active_ = Clock::now();
      if (!deliver_to_client(session, buf.data(), static_cast<std::size_t>(n))) return false;
      continue;
    }
    if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
      channel_error(session, static_cast<int>(n), "reading");
      return false;
    }
    if (mode() == hostsdb::Mode::netcat) drain_stderr(session);
    if (state_ == State::open && libssh2_channel_eof(channel_)) on_remote_eof();
    return false;
  }
  return true;
}

bool Tunnel::deliver_to_client(Session& session, const char* data, std::size_t size) {
  boost::system::error_code ec;
  std::size_t written = connection_->client().write_some(boost::asio::buffer(data, size), ec);
  if (would_block(ec)) {
    written = 0;
  } else if (ec) {
    abort(session, "client-gone: " + ec.message());
    return false;
  }
  if (written == size) return true;
  down_rest_size_ = size - written;
  down_rest_.reset(new char[down_rest_size_]);
  std::memcpy(down_rest_.get(), data + written, down_rest_size_);
  write_rest_to_client(session);
  return false;
}

void Tunnel::write_rest_to_client(Session& session) {
  writing_client_ = true;
  auto self = shared_from_this();
  auto keep_session = session.shared_from_this();
  boost::asio::async_write(
      connection_->client(), boost::asio::buffer(down_rest_.get(), down_rest_size_),
      boost::asio::bind_executor(session.strand(), [self, keep_session](const boost::system::error_code& ec, std::size_t) {
        self->writing_client_ = false;
        self->down_rest_.reset();
        self->down_rest_size_ = 0;
        if (self->state_ != State::open) return;
        if (ec) {
          self->abort(*keep_session, "client-gone: " + ec.message());
          return;
        }
        keep_session->pump_tunnel(self);
      }));
}

void Tunnel::drain_stderr(Session& session) {
  // Unread stderr holds SSH window, so it is always read; its tail explains failures.
  std::vector<char>& buf = session.scratch();
  for (;;) {
    ssize_t n = libssh2_channel_read_stderr(channel_, buf.data(), buf.size());
    if (n <= 0) return;
    far_stderr_.append(buf.data(), static_cast<std::size_t>(n));
    if (far_stderr_.size() > stderr_tail_max) far_stderr_.erase(0, far_stderr_.size() - stderr_tail_max);
  }
}

void Tunnel::on_remote_eof() {
  remote_eof_ = true;
  // In netcat mode only the far end's exit status tells FIN from RST: a
  // netcat that ends before sending anything may have failed to connect, and
  // dvpn-gate reports a destination's reset on stderr, which reaches us
  // before the EOF, and then exits non-zero. A clean end after data has a
  // silent stderr and passes the FIN on at once: the exit status comes only
  // after our own EOF, and a half-closed client may still be sending.
  if (mode() == hostsdb::Mode::netcat && (!far_sent_data_ || !far_stderr_.empty())) {
    awaiting_exit_status_ = true;
    return;
  }
  boost::system::error_code ignored;
  connection_->client().shutdown(boost::asio::socket_base::shutdown_send, ignored);
}

bool Tunnel::relay_up(Session& session) {
  std::vector<char>& buf = session.scratch();
  for (int turn = 0; turn < turn_budget; ++turn) {
    if (up_rest_offset_ < up_rest_size_) {
      if (session.congested()) return false;
      std::size_t written = 0;
      bool ok = write_to_channel(session, up_rest_.get() + up_rest_offset_, up_rest_size_ - up_rest_offset_, written);
      up_rest_offset_ += written;
      if (!ok || up_rest_offset_ < up_rest_size_) return false;
      up_rest_.reset();
      up_rest_size_ = up_rest_offset_ = 0;
    }
    if (client_eof_) {
      if (!eof_sent_) {
        int rc = libssh2_channel_send_eof(channel_);
        if (rc == LIBSSH2_ERROR_EAGAIN) return false;
        if (rc < 0) {
          channel_error(session, rc, "sending EOF");
          return false;
        }
        eof_sent_ = true;
      }
      return false;
    }
    if (waiting_readable_ || session.congested()) return false;
    boost::system::error_code ec;
    std::size_t n = connection_->client().read_some(boost::asio::buffer(buf), ec);
    if (would_block(ec)) {
      wait_client_readable(session);
      return false;
    }
    if (ec == boost::asio::error::eof) {
      client_eof_ = true;
      continue;
    }
    if (ec) {
      abort(session, "client-reset: " + ec.message());
      return false;
    }
    connection_->bytes_up += n;
    last_active_ = Clock::now();
    std::size_t written = 0;
    bool ok = write_to_channel(session, buf.data(), n, written);
    if (written < n) {
      up_rest_size_ = n - written;
      up_rest_offset_ = 0;
      up_rest_.reset(new char[up_rest_size_]);
      std::memcpy(up_rest_.get(), buf.data() + written, up_rest_size_);
    }
    if (!ok) return false;
  }
  return true;
}

bool Tunnel::write_to_channel(Session& session, const char* data, std::size_t size, std::size_t& written) {
  while (written < size) {
    ssize_t n = libssh2_channel_write(channel_, data + written, size - written);
    if (n > 0) {
      written += static_cast<std::size_t>(n);
      continue;
    }
    if (n == 0 || n == LIBSSH2_ERROR_EAGAIN) return true;  // window full: its adjust arrives as input
    channel_error(session, static_cast<int>(n), "writing");
    return false;
  }
  return true;
}

void Tunnel::wait_client_readable(Session& session) {
  waiting_readable_ = true;
  auto self = shared_from_this();
  auto keep_session = session.shared_from_this();
  connection_->client().async_wait(
      boost::asio::socket_base::wait_read,
      boost::asio::bind_executor(session.strand(), [self, keep_session](const boost::system::error_code&) {
        self->waiting_readable_ = false;
        if (self->state_ == State::open) keep_session->pump_tunnel(self);
      }));
}

void Tunnel::check_finished(Session& session) {
  if (!remote_eof_ || writing_client_) return;
  if (!remote_closed_) {
    int rc = libssh2_channel_wait_closed(channel_);
    if (rc == 0) {
      remote_closed_ = true;
    } else if (rc != LIBSSH2_ERROR_EAGAIN) {
      channel_error(session, rc, "waiting for close");
      return;
    }
  }
  if (awaiting_exit_status_) {
    if (!remote_closed_) return;  // exit-status comes before CLOSE
    int status = libssh2_channel_get_exit_status(channel_);
    if (status != 0) {
      std::string why = printable(far_stderr_);
      // After data it was the destination's reset; before, a failed connect.
      const char* what = far_sent_data_ ? "far-end-reset: exit " : "far-end-failed: exit ";
      begin_close(session, {what + std::to_string(status) + (why.empty() ? "" : ": " + why), true});
      return;
    }
    boost::system::error_code ignored;
    connection_->client().shutdown(boost::asio::socket_base::shutdown_send, ignored);
    awaiting_exit_status_ = false;
  }
  // Both directions finished, or the far end is gone and nothing more can be
  // delivered to it (a client byte sent after this is answered with RST by
  // the kernel, as the real server would have).
  if (eof_sent_ || remote_closed_) begin_close(session, {"ok", false});
}

void Tunnel::begin_close(Session& session, Ending ending) {
  if (state_ == State::closing || state_ == State::released) return;
  state_ = State::closing;
  ending_ = std::move(ending);
  if (!ending_.reset && mode() == hostsdb::Mode::netcat && remote_closed_) {
    int status = libssh2_channel_get_exit_status(channel_);
    if (status != 0) ending_.reason += " (far end exit " + std::to_string(status) + ")";
  }
  connection_->finish(ending_);
  close_step(session);
}

void Tunnel::close_step(Session& session) {
  int rc = libssh2_channel_close(channel_);
  if (rc == LIBSSH2_ERROR_EAGAIN) return;
  session.note_partial_read();
  // The far end frees the slot (OpenSSH MaxSessions) only after our CLOSE
  // crossed its own; wait for it where libssh2 lets us (after its EOF).
  if (rc == 0 && remote_eof_ && !remote_closed_) {
    rc = libssh2_channel_wait_closed(channel_);
    if (rc == LIBSSH2_ERROR_EAGAIN) return;
  }
  if (rc < 0 && !is_channel_error(rc)) {
    session.fail("closing a channel: " + last_error(session.handle()));
    return;
  }
  libssh2_channel_free(channel_);
  channel_ = nullptr;
  state_ = State::released;
  session.channel_released(mode(), connection_->bytes_up, connection_->bytes_down);
}

void Tunnel::abort(Session& session, const std::string& reason) {
  if (state_ == State::released || state_ == State::closing) return;
  if (!channel_) {
    reject(reason);
    session.channel_released(mode(), connection_->bytes_up, connection_->bytes_down);
    return;
  }
  begin_close(session, {reason, true});
}

void Tunnel::session_lost(const std::string& why) {
  channel_ = nullptr;  // freed with the session
  state_ = State::released;
  connection_->finish({"session-died: " + why, true});
}

void Tunnel::channel_error(Session& session, int rc, const char* doing) {
  std::string why = std::string("channel error ") + doing + ": " + last_error(session.handle());
  if (!is_channel_error(rc)) {
    session.fail(why);
    return;
  }
  abort(session, why);
}

}  // namespace dvpn::ssh
