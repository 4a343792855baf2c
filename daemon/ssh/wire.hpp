#pragma once
// The byte path between libssh2 and the transport under a session.
//
// libssh2 never touches the transport: its send callback appends to our
// output queue and always reports success, its recv callback serves bytes we
// read ahead. So no libssh2 call ever half-sends a packet, the 1.10 traps
// around EAGAIN on send cannot happen (doc/ssh-notes.md §1), and "would
// block" only ever means "need more input", which our one outstanding read
// brings. Writes coalesce: what several channels produce for one burst of
// events leaves in one send.
//
// Memory follows use: input is read, once the transport is readable, into a
// buffer per thread, and libssh2 normally takes all of it in the pump that
// follows; only what it leaves is copied into the session's own `held_`.
// The output queue's capacity is given back by trim() once the session has
// been quiet, so an idle session keeps no buffer of its own.
#include <libssh2.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "transport.hpp"

namespace dvpn::ssh {

class Wire {
 public:
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;
  // What the wire tells its session, on the strand.
  struct Events {
    std::function<void()> input;                    // bytes arrived for libssh2
    std::function<void()> room;                     // the output queue fell below its high-water mark
    std::function<void()> flushed_while_stopping;   // stop_after_flush() and the last byte left
    std::function<void(const std::string&)> error;  // "lost: ...", "sending ... failed: ..."
  };

  Wire(Strand& strand, std::string peer_text, Events events);
  Wire(const Wire&) = delete;
  Wire& operator=(const Wire&) = delete;

  void attach(std::unique_ptr<Transport> transport);
  // Points libssh2's I/O callbacks at this wire.
  void install(LIBSSH2_SESSION* ssh);
  int descriptor() const { return transport_ ? transport_->descriptor() : -1; }
  // The transport's round-trip time (Transport::rtt); nullopt without one.
  std::optional<std::chrono::microseconds> rtt() const {
    return transport_ && phase_ != Phase::closed ? transport_->rtt() : std::nullopt;
  }

  // Transport::why_lost, "" without a transport.
  std::string why_lost() const { return transport_ ? transport_->why_lost() : std::string(); }

  bool has_input() const noexcept { return in_size_ > 0; }
  // Grows whenever libssh2 took input: a caller compares it across a step.
  std::uint64_t consumed() const noexcept { return in_consumed_; }
  // True while our output queue is above its high-water mark: stop producing.
  bool congested() const noexcept { return out_pending_.size() >= out_high_water; }

  // Keeps one wait for input outstanding while libssh2 is not behind.
  void read(const std::shared_ptr<void>& keep_alive);
  // Gives back buffer capacity when little moved since the last call (the session's tick;
  // its own keepalive does not make a session busy).
  void trim();
  // Sends what is queued once the handlers already queued on the strand ran.
  void flush_soon(const std::shared_ptr<void>& keep_alive);
  // Sends what is queued now.
  void flush(const std::shared_ptr<void>& keep_alive);
  // No more reads; call `flushed_while_stopping` once the queue is out (at once if empty).
  void stop_after_flush(const std::shared_ptr<void>& keep_alive);
  // Closes the transport; no event follows.
  void close();

 private:
  static constexpr std::size_t out_high_water = 256 * 1024;
  static constexpr std::size_t held_limit = 256 * 1024;  // libssh2 this far behind: stop reading

  void take_input(const std::shared_ptr<void>& keep_alive);
  void wait_for_input(const std::shared_ptr<void>& keep_alive);
  // After the pump: what libssh2 left in the thread's buffer moves to held_.
  void hold_rest();

  static ssize_t send_callback(libssh2_socket_t, const void* buffer, size_t length, int, void** abstract);
  static ssize_t recv_callback(libssh2_socket_t, void* buffer, size_t length, int, void** abstract);

  Strand& strand_;
  std::string peer_text_;
  Events events_;
  std::unique_ptr<Transport> transport_;
  enum class Phase { running, stopping, closed } phase_ = Phase::running;

  const char* in_data_ = nullptr;  // what libssh2 reads next: in the thread's buffer or in held_
  std::size_t in_size_ = 0;
  std::vector<char> held_;
  std::uint64_t in_consumed_ = 0;
  bool reading_ = false;
  std::size_t moved_since_trim_ = 0;  // bytes either way since the last trim()
  std::vector<char> out_pending_, out_writing_;
  bool writing_ = false;
  bool write_requested_ = false;
};

}  // namespace dvpn::ssh
