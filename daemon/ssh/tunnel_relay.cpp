// A Tunnel's bytes, both ways, with backpressure and exact half-close.
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>

#include "tunnel.hpp"

namespace dvpn::ssh {
namespace {

constexpr std::size_t stderr_tail_max = 240;

bool would_block(const boost::system::error_code& ec) {
  return ec == boost::asio::error::would_block || ec == boost::asio::error::try_again;
}

}  // namespace

bool Tunnel::wants_step() const {
  if (state_ == State::closing) return true;
  if (state_ != State::open) return false;
  // Waiting for the far end's close or exit status: neither shows in the queue.
  if (down_.remote_eof || down_.awaiting_exit_status) return true;
  // Client-side work no readiness wait is armed for.
  if ((!up_.client_eof && !up_.waiting_readable) || !up_.rest.empty() || (up_.client_eof && !up_.eof_sent))
    return true;
  // Non-zero also for libssh2's errors: then step() finds out.
  return libssh2_poll_channel_read(channel_, 1) != 0 || libssh2_channel_eof(channel_) != 0;
}

bool Tunnel::step() {
  if (state_ == State::closing) {
    close_step();
    return false;
  }
  if (state_ != State::open) return false;
  bool more = relay_down();
  if (state_ == State::open) more |= relay_up();
  if (state_ == State::open) check_finished();
  if (state_ == State::open) tend_window();
  return more && state_ == State::open;
}

bool Tunnel::relay_down() {
  std::vector<char>& buf = host_->scratch();
  for (int turn = 0; turn < turn_budget; ++turn) {
    if (down_.writing_client || down_.remote_eof) return false;
    ssize_t n = libssh2_channel_read(channel_, buf.data(), std::min(buf.size(), window::read_size(window_target_)));
    if (n > 0) {
      down_.far_sent_data = true;
      connection_->bytes_down += static_cast<std::uint64_t>(n);
      epoch_bytes_ += static_cast<std::uint64_t>(n);
      last_active_ = Clock::now();
      if (!deliver_to_client(buf.data(), static_cast<std::size_t>(n))) return false;
      continue;
    }
    if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
      channel_error(static_cast<int>(n), "reading");
      return false;
    }
    if (mode() == hostsdb::Mode::netcat) drain_stderr();
    if (state_ == State::open && libssh2_channel_eof(channel_)) on_remote_eof();
    return false;
  }
  return true;
}

bool Tunnel::deliver_to_client(const char* data, std::size_t size) {
  boost::system::error_code ec;
  std::size_t written = connection_->client().write_some(boost::asio::buffer(data, size), ec);
  if (would_block(ec)) {
    written = 0;
  } else if (ec) {
    abort("client-gone: " + ec.message());
    return false;
  }
  if (written == size) return true;
  down_.rest.keep(data + written, size - written);
  write_rest_to_client();
  return false;
}

void Tunnel::write_rest_to_client() {
  down_.writing_client = true;
  auto self = shared_from_this();
  auto keep_host = host_->keep_alive();
  boost::asio::async_write(
      connection_->client(), boost::asio::buffer(down_.rest.data(), down_.rest.size()),
      boost::asio::bind_executor(host_->strand(), [self, keep_host](const boost::system::error_code& ec, std::size_t) {
        self->down_.writing_client = false;
        self->down_.rest.consume(self->down_.rest.size());
        if (self->state_ != State::open) return;
        if (ec) {
          self->abort("client-gone: " + ec.message());
          return;
        }
        keep_host->wake(self);
      }));
}

void Tunnel::drain_stderr() {
  // Unread stderr holds SSH window, so it is always read; its tail explains failures.
  std::vector<char>& buf = host_->scratch();
  std::string& tail = down_.far_stderr;
  for (;;) {
    ssize_t n = libssh2_channel_read_stderr(channel_, buf.data(), buf.size());
    if (n <= 0) return;
    tail.append(buf.data(), static_cast<std::size_t>(n));
    if (tail.size() > stderr_tail_max) tail.erase(0, tail.size() - stderr_tail_max);
  }
}

void Tunnel::on_remote_eof() {
  down_.remote_eof = true;
  // In netcat mode only the far end's exit status tells FIN from RST: a
  // netcat that ends before sending anything may have failed to connect, and
  // dvpn-gate reports a destination's reset on stderr, which reaches us
  // before the EOF, and then exits non-zero. A clean end after data has a
  // silent stderr and passes the FIN on at once: the exit status comes only
  // after our own EOF, and a half-closed client may still be sending.
  if (mode() == hostsdb::Mode::netcat && (!down_.far_sent_data || !down_.far_stderr.empty())) {
    down_.awaiting_exit_status = true;
    return;
  }
  boost::system::error_code ignored;
  connection_->client().shutdown(boost::asio::socket_base::shutdown_send, ignored);
}

void Tunnel::tend_window() {
  // Credit only for a client that keeps up: one that is behind keeps what it was given.
  if (down_.remote_eof || down_.writing_client || !down_.rest.empty()) return;
  if (adjust_pending_ == 0) {
    unsigned long unread = 0;
    const unsigned long left = libssh2_channel_window_read_ex(channel_, &unread, nullptr);
    grow_with_rate();
    adjust_pending_ = window::top_up(window_target_, std::uint64_t{left} + unread);
    if (adjust_pending_ == 0) return;
  }
  // On EAGAIN libssh2 keeps the message and sends it on the next call, which
  // must name the same amount (it adds that number to its own count).
  int rc = libssh2_channel_receive_window_adjust2(channel_, adjust_pending_, 1, nullptr);
  if (rc == LIBSSH2_ERROR_EAGAIN) return;
  adjust_pending_ = 0;
  if (rc < 0) channel_error(rc, "opening the window");
}

void Tunnel::grow_with_rate() {
  const auto now = Clock::now();
  const auto known = host_->path_rtt();
  const auto rtt = known.count() > 0 ? known : window::assumed_rtt;
  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(now - epoch_start_);
  if (elapsed < rtt) return;
  grow_window_to(window::next_target(window_target_, epoch_bytes_, elapsed, rtt,
                                     window::max_window(host_->window_max(), carrier_)));
  epoch_start_ = now;
  epoch_bytes_ = 0;
}

void Tunnel::grow_window_to(std::uint32_t target) {
  if (target <= window_target_ || !budget_) return;
  const std::uint64_t more = window::charge(target) - window_charge_;
  if (!budget_->take(more)) return;
  window_charge_ += more;
  window_target_ = target;
}

bool Tunnel::relay_up() {
  std::vector<char>& buf = host_->scratch();
  for (int turn = 0; turn < turn_budget; ++turn) {
    if (!up_.rest.empty() && !send_up_rest()) return false;
    if (up_.client_eof) {
      send_eof();
      return false;
    }
    if (up_.waiting_readable || host_->congested()) return false;
    // Read no more than the far end's window takes now, so nothing is kept
    // back for a far end that is slow to take it; its window adjust arrives
    // as input and brings us back.
    const std::size_t room = libssh2_channel_window_write(channel_);
    if (room == 0) return false;
    boost::system::error_code ec;
    std::size_t n = connection_->client().read_some(boost::asio::buffer(buf.data(), std::min(buf.size(), room)), ec);
    if (would_block(ec)) {
      wait_client_readable();
      return false;
    }
    if (ec == boost::asio::error::eof) {
      up_.client_eof = true;
      continue;
    }
    if (ec) {
      abort("client-reset: " + ec.message());
      return false;
    }
    connection_->bytes_up += n;
    last_active_ = Clock::now();
    std::size_t written = 0;
    bool ok = write_to_channel(buf.data(), n, written);
    if (written < n) up_.rest.keep(buf.data() + written, n - written);
    if (!ok) return false;
  }
  return true;
}

// True when the remainder is all sent.
bool Tunnel::send_up_rest() {
  if (host_->congested()) return false;
  std::size_t written = 0;
  bool ok = write_to_channel(up_.rest.data(), up_.rest.size(), written);
  up_.rest.consume(written);
  return ok && up_.rest.empty();
}

bool Tunnel::send_eof() {
  if (up_.eof_sent) return true;
  int rc = libssh2_channel_send_eof(channel_);
  if (rc == LIBSSH2_ERROR_EAGAIN) return false;
  if (rc < 0) {
    channel_error(rc, "sending EOF");
    return false;
  }
  up_.eof_sent = true;
  return true;
}

bool Tunnel::write_to_channel(const char* data, std::size_t size, std::size_t& written) {
  while (written < size) {
    ssize_t n = libssh2_channel_write(channel_, data + written, size - written);
    if (n > 0) {
      written += static_cast<std::size_t>(n);
      continue;
    }
    if (n == 0 || n == LIBSSH2_ERROR_EAGAIN) return true;  // window full: its adjust arrives as input
    channel_error(static_cast<int>(n), "writing");
    return false;
  }
  return true;
}

void Tunnel::wait_client_readable() {
  up_.waiting_readable = true;
  auto self = shared_from_this();
  auto keep_host = host_->keep_alive();
  connection_->client().async_wait(
      boost::asio::socket_base::wait_read,
      boost::asio::bind_executor(host_->strand(), [self, keep_host](const boost::system::error_code&) {
        self->up_.waiting_readable = false;
        if (self->state_ == State::open) keep_host->wake(self);
      }));
}

}  // namespace dvpn::ssh
