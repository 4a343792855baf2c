#include "wire.hpp"

#include <boost/asio/post.hpp>

#include <cerrno>
#include <cstring>

namespace dvpn::ssh {

Wire::Wire(Strand& strand, std::string peer_text, Events events)
    : strand_(strand), peer_text_(std::move(peer_text)), events_(std::move(events)), in_(in_capacity) {}

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
  std::size_t available = self->in_end_ - self->in_begin_;
  if (available == 0) return -EAGAIN;
  std::size_t n = std::min(available, length);
  std::memcpy(buffer, self->in_.data() + self->in_begin_, n);
  self->in_begin_ += n;
  self->in_consumed_ += n;
  return static_cast<ssize_t>(n);
}

void Wire::read(const std::shared_ptr<void>& keep_alive) {
  if (reading_ || phase_ != Phase::running || !transport_) return;
  if (in_begin_ == in_end_) {
    in_begin_ = in_end_ = 0;
  } else if (in_end_ == in_.size() && in_begin_ > 0) {
    std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
    in_end_ -= in_begin_;
    in_begin_ = 0;
  }
  if (in_end_ == in_.size()) return;  // libssh2 must take some first
  reading_ = true;
  transport_->read_some(boost::asio::buffer(in_.data() + in_end_, in_.size() - in_end_),
                        [this, keep_alive](const boost::system::error_code& ec, std::size_t n) {
                          reading_ = false;
                          if (phase_ != Phase::running) return;
                          if (ec) {
                            events_.error("connection to " + peer_text_ + " lost: " + ec.message());
                            return;
                          }
                          in_end_ += n;
                          transport_->after_read();
                          events_.input();
                        });
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
  out_writing_.swap(out_pending_);
  out_pending_.clear();
  writing_ = true;
  transport_->write_all(boost::asio::buffer(out_writing_), [this, keep_alive](const boost::system::error_code& ec,
                                                                               std::size_t) {
    writing_ = false;
    out_writing_.clear();
    if (phase_ == Phase::closed) return;
    if (ec) {
      events_.error("sending to " + peer_text_ + " failed: " + ec.message());
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
