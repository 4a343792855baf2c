// A Tunnel's life outside the relay: rejection, the ending, the CLOSE exchange.
#include "tunnel.hpp"

#include <cstring>

#include "errors.hpp"

namespace dvpn::ssh {
namespace {

std::string printable(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    else if (static_cast<unsigned char>(c) < 0x20) c = '?';
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

}  // namespace

void Remainder::keep(const char* data, std::size_t size) {
  bytes_.reset(new char[size]);
  std::memcpy(bytes_.get(), data, size);
  size_ = size;
  offset_ = 0;
}

void Remainder::consume(std::size_t n) {
  offset_ += n;
  if (offset_ < size_) return;
  bytes_.reset();
  size_ = offset_ = 0;
}

Tunnel::Tunnel(std::unique_ptr<Connection> connection, Clock::time_point deadline)
    : connection_(std::move(connection)), deadline_(deadline) {}

Tunnel::~Tunnel() {
  if (budget_) budget_->give(window_charge_);
}

void Tunnel::reject(const std::string& reason) {
  state_ = State::released;
  connection_->finish({reason, true});
}

void Tunnel::abandon(const std::string& reason) {
  abandoned_ = true;
  connection_->finish({reason, true});
}

void Tunnel::check_finished() {
  if (!down_.remote_eof || down_.writing_client) return;
  if (!down_.remote_closed) {
    int rc = libssh2_channel_wait_closed(channel_);
    if (rc == 0) {
      down_.remote_closed = true;
    } else if (rc != LIBSSH2_ERROR_EAGAIN) {
      channel_error(rc, "waiting for close");
      return;
    }
  }
  if (down_.awaiting_exit_status) {
    if (!down_.remote_closed) return;  // exit-status comes before CLOSE
    end_by_exit_status();
    if (state_ != State::open) return;
  }
  // Both directions finished, or the far end is gone and nothing more can be
  // delivered to it (a client byte sent after this is answered with RST by
  // the kernel, as the real server would have).
  if (up_.eof_sent || down_.remote_closed) begin_close({"ok", false});
}

// Netcat mode, the far end closed: a non-zero exit means RST for the client.
void Tunnel::end_by_exit_status() {
  int status = libssh2_channel_get_exit_status(channel_);
  if (status != 0) {
    std::string why = printable(down_.far_stderr);
    // After data it was the destination's reset; before, a failed connect.
    const char* what = down_.far_sent_data ? "far-end-reset: exit " : "far-end-failed: exit ";
    begin_close({what + std::to_string(status) + (why.empty() ? "" : ": " + why), true});
    return;
  }
  boost::system::error_code ignored;
  connection_->client().shutdown(boost::asio::socket_base::shutdown_send, ignored);
  down_.awaiting_exit_status = false;
}

void Tunnel::begin_close(Ending ending) {
  if (state_ == State::closing || state_ == State::released) return;
  state_ = State::closing;
  ending_ = std::move(ending);
  if (!ending_.reset && mode() == hostsdb::Mode::netcat && down_.remote_closed) {
    int status = libssh2_channel_get_exit_status(channel_);
    if (status != 0) ending_.reason += " (far end exit " + std::to_string(status) + ")";
  }
  connection_->finish(ending_);
  close_step();
}

void Tunnel::close_step() {
  int rc = libssh2_channel_close(channel_);
  if (rc == LIBSSH2_ERROR_EAGAIN) return;
  host_->note_partial_read();
  // The far end frees the slot (OpenSSH MaxSessions) only after our CLOSE
  // crossed its own; wait for it where libssh2 lets us (after its EOF).
  if (rc == 0 && down_.remote_eof && !down_.remote_closed) {
    rc = libssh2_channel_wait_closed(channel_);
    if (rc == LIBSSH2_ERROR_EAGAIN) return;
  }
  if (rc < 0 && !is_channel_error(rc)) {
    host_->fail("closing a channel: " + last_error(host_->handle()));
    return;
  }
  libssh2_channel_free(channel_);
  channel_ = nullptr;
  state_ = State::released;
  host_->channel_released(mode(), connection_->bytes_up, connection_->bytes_down);
}

void Tunnel::abort(const std::string& reason) {
  if (state_ == State::released || state_ == State::closing) return;
  if (!channel_) {
    reject(reason);
    if (host_) host_->channel_released(mode(), connection_->bytes_up, connection_->bytes_down);
    return;
  }
  begin_close({reason, true});
}

void Tunnel::session_lost(const std::string& why) {
  channel_ = nullptr;  // freed with the session
  state_ = State::released;
  connection_->finish({"session-died: " + why, true});
}

void Tunnel::channel_error(int rc, const char* doing) {
  std::string why = std::string("channel error ") + doing + ": " + last_error(host_->handle());
  if (!is_channel_error(rc)) {
    host_->fail(why);
    return;
  }
  abort(why);
}

}  // namespace dvpn::ssh
