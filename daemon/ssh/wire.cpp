#include "wire.hpp"

#include <boost/asio/post.hpp>

#include <cerrno>
#include <cstring>

namespace dvpn::ssh {
namespace {

constexpr std::size_t read_chunk = 256 * 1024;
// Fewer bytes than this between two ticks is a quiet session (a keepalive is ~100).
constexpr std::size_t quiet_bytes = 16 * 1024;

// One input buffer per thread, shared by every session that runs there:
// handlers run one at a time, and a session's pump leaves nothing in it.
std::vector<char>& thread_input() {
  thread_local std::vector<char> buffer(read_chunk);
  return buffer;
}

}  // namespace

Wire::Wire(Strand& strand, std::string peer_text, Events events)
    : strand_(strand), peer_text_(std::move(peer_text)), events_(std::move(events)) {}

void Wire::attach(std::unique_ptr<Transport> transport) { transport_ = std::move(transport); }

void Wire::install(LIBSSH2_SESSION* ssh) {
  libssh2_session_callback_set(ssh, LIBSSH2_CALLBACK_SEND, reinterpret_cast<void*>(&Wire::send_callback));
  libssh2_session_callback_set(ssh, LIBSSH2_CALLBACK_RECV, reinterpret_cast<void*>(&Wire::recv_callback));
}

ssize_t Wire::send_callback(libssh2_socket_t, const void* buffer, size_t length, int, void** abstract) {
  auto* self = static_cast<Wire*>(*abstract);
  const char* bytes = static_cast<const char*>(buffer);
  self->out_pending_.insert(self->out_pending_.end(), bytes, bytes + length);
  return static_cast<ssize_t>(length);
}

ssize_t Wire::recv_callback(libssh2_socket_t, void* buffer, size_t length, int, void** abstract) {
  auto* self = static_cast<Wire*>(*abstract);
  if (self->in_size_ == 0) return -EAGAIN;
  std::size_t n = std::min(self->in_size_, length);
  std::memcpy(buffer, self->in_data_, n);
  self->in_data_ += n;
  self->in_size_ -= n;
  self->in_consumed_ += n;
  return static_cast<ssize_t>(n);
}

void Wire::read(const std::shared_ptr<void>& keep_alive) {
  if (reading_ || phase_ != Phase::running || !transport_ || in_size_ >= held_limit) return;
  // First a read that may find nothing, and only then a wait: the reactor
  // is edge-triggered, so a wait started while bytes already sit in the
  // socket would not wake until more arrive.
  reading_ = true;
  boost::asio::post(strand_, [this, keep_alive] {
    reading_ = false;
    if (phase_ == Phase::running) take_input(keep_alive);
  });
}

void Wire::wait_for_input(const std::shared_ptr<void>& keep_alive) {
  reading_ = true;
  transport_->wait_readable([this, keep_alive](const boost::system::error_code& ec, std::size_t) {
    reading_ = false;
    if (phase_ != Phase::running) return;
    if (ec) {
      events_.error("connection to " + peer_text_ + " lost: " + ec.message() + transport_->why_lost());
      return;
    }
    take_input(keep_alive);
  });
}

void Wire::take_input(const std::shared_ptr<void>& keep_alive) {
  std::vector<char>& buffer = thread_input();
  boost::system::error_code ec;
  const std::size_t n = transport_->read_now(boost::asio::buffer(buffer), ec);
  if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again) {
    wait_for_input(keep_alive);
    return;
  }
  if (ec) {
    events_.error("connection to " + peer_text_ + " lost: " + ec.message() + transport_->why_lost());
    return;
  }
  moved_since_trim_ += n;
  if (in_size_ > 0) {
    // libssh2 has not taken earlier bytes yet: the new ones queue behind them.
    held_.erase(held_.begin(), held_.end() - static_cast<std::ptrdiff_t>(in_size_));
    held_.insert(held_.end(), buffer.data(), buffer.data() + n);
    in_data_ = held_.data();
    in_size_ = held_.size();
  } else {
    in_data_ = buffer.data();
    in_size_ = n;
  }
  transport_->after_read();
  events_.input();
  hold_rest();
}

void Wire::hold_rest() {
  if (in_size_ == 0) {
    held_.clear();
    in_data_ = nullptr;
    return;
  }
  if (in_data_ >= held_.data() && in_data_ < held_.data() + held_.size()) return;  // already ours
  held_.assign(in_data_, in_data_ + in_size_);
  in_data_ = held_.data();
}

void Wire::trim() {
  const bool quiet = moved_since_trim_ < quiet_bytes;
  moved_since_trim_ = 0;
  if (!quiet || writing_) return;
  if (out_pending_.empty()) std::vector<char>().swap(out_pending_);
  std::vector<char>().swap(out_writing_);
  if (in_size_ == 0) std::vector<char>().swap(held_);
}

void Wire::flush_soon(const std::shared_ptr<void>& keep_alive) {
  if (write_requested_ || writing_ || out_pending_.empty()) return;
  write_requested_ = true;
  boost::asio::post(strand_, [this, keep_alive] {
    write_requested_ = false;
    flush(keep_alive);
  });
}

void Wire::flush(const std::shared_ptr<void>& keep_alive) {
  if (writing_ || out_pending_.empty() || phase_ == Phase::closed || !transport_) return;
  const bool was_congested = congested();
  moved_since_trim_ += out_pending_.size();
  out_writing_.swap(out_pending_);
  out_pending_.clear();
  writing_ = true;
  transport_->write_all(boost::asio::buffer(out_writing_), [this, keep_alive](const boost::system::error_code& ec,
                                                                               std::size_t) {
    writing_ = false;
    out_writing_.clear();
    if (phase_ == Phase::closed) return;
    if (ec) {
      events_.error("sending to " + peer_text_ + " failed: " + ec.message() + transport_->why_lost());
      return;
    }
    if (phase_ == Phase::stopping && out_pending_.empty()) {
      events_.flushed_while_stopping();
      return;
    }
    flush(keep_alive);
  });
  if (was_congested) events_.room();  // producers stopped at the mark may go on
}

void Wire::stop_after_flush(const std::shared_ptr<void>& keep_alive) {
  phase_ = Phase::stopping;
  flush(keep_alive);
  if (!writing_) events_.flushed_while_stopping();
}

void Wire::close() {
  phase_ = Phase::closed;
  if (transport_) transport_->close();
}

}  // namespace dvpn::ssh
