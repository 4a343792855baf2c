#pragma once
// One client connection carried on one SSH channel: opening the channel,
// relaying both directions with backpressure and exact half-close, and the
// ending (FIN only after every byte arrived, RST otherwise).
//
// Backpressure: we read the channel only when the client socket took all
// earlier bytes (libssh2 re-opens the SSH window only as we read), and read
// the client only when the channel's window and our output queue have room.
// An idle connection holds no buffer: bytes pass through the session's
// scratch buffer, and only a remainder the other side could not take yet is
// kept, in a buffer sized to it.
#include <libssh2.h>

#include <chrono>
#include <memory>
#include <string>

#include "connection.hpp"

namespace dvpn::ssh {

class Session;

class Tunnel : public std::enable_shared_from_this<Tunnel> {
 public:
  using Clock = std::chrono::steady_clock;

  Tunnel(std::unique_ptr<Connection> connection, Clock::time_point deadline);
  ~Tunnel();
  Tunnel(const Tunnel&) = delete;
  Tunnel& operator=(const Tunnel&) = delete;

  Connection& connection() noexcept { return *connection_; }
  hostsdb::Mode mode() const noexcept { return connection_->target().mode; }
  Clock::time_point deadline() const noexcept { return deadline_; }
  // When a byte last moved either way (for limits.idle_timeout).
  Clock::time_point last_active() const noexcept { return last_active_; }
  // A connection first waits (connect_timeout) for a session with a free
  // channel; once a live session takes it, the far end gets a fresh
  // connect_timeout to open the channel: time spent queued behind other opens
  // of a busy but working session is not a sign of an unreachable gateway.
  void restart_deadline(std::chrono::milliseconds timeout) { deadline_ = Clock::now() + timeout; }

  // Ends a connection that never got a channel: RST and the log line.
  void reject(const std::string& reason);

  enum class OpenResult { pending, opened, refused, session_broken };
  // One attempt at opening the channel (and starting the far-end command in
  // netcat mode). `refused` leaves the reason in `open_error()`.
  OpenResult try_open(Session& session);
  const std::string& open_error() const noexcept { return open_error_; }
  // The client gave up waiting while the open was in flight: close the
  // channel as soon as it exists.
  void abandon(const std::string& reason);

  bool abandoned() const noexcept { return abandoned_; }
  // Counts how often a pool had to retry this tunnel on another session.
  int retries = 0;
  // Lets libssh2 decode all buffered SSH input (a zero-length channel read);
  // false if this tunnel has no open channel to do it with.
  bool pull_input(Session& session);

  // Moves bytes; true if it stopped only because its turn was used up.
  bool step(Session& session);
  // False when step() would find nothing to do: no decoded data or EOF for
  // the channel, and the client side waits on a readiness callback of its
  // own. Cheap (libssh2 scans its queue of decoded packets, usually empty),
  // so a session with thousands of mostly idle channels visits only the
  // busy ones per input chunk.
  bool wants_step() const;
  // Channel closed and freed: the session may forget this tunnel.
  bool released() const noexcept { return state_ == State::released; }
  // RSTs the client and closes the channel (the slot is released after).
  void abort(Session& session, const std::string& reason);
  // The session is gone: RST the client; libssh2 frees the channel with the session.
  void session_lost(const std::string& why);

 private:
  enum class State { opening, open, closing, released };
  static constexpr int turn_budget = 4;  // reads per direction before others get a turn

  OpenResult open_channel(Session& session);
  bool relay_down(Session& session);
  bool relay_up(Session& session);
  bool deliver_to_client(Session& session, const char* data, std::size_t size);
  bool write_to_channel(Session& session, const char* data, std::size_t size, std::size_t& written);
  void drain_stderr(Session& session);
  void on_remote_eof();
  void check_finished(Session& session);
  void begin_close(Session& session, Ending ending);
  void close_step(Session& session);
  void channel_error(Session& session, int rc, const char* doing);
  void wait_client_readable(Session& session);
  void write_rest_to_client(Session& session);

  std::unique_ptr<Connection> connection_;
  Clock::time_point deadline_;
  Clock::time_point last_active_ = Clock::now();
  LIBSSH2_CHANNEL* channel_ = nullptr;
  State state_ = State::opening;
  bool exec_started_ = false;
  bool abandoned_ = false;
  std::string open_error_;
  std::string open_message_;  // direct-tcpip request, kept across open retries

  // client -> far end
  std::unique_ptr<char[]> up_rest_;
  std::size_t up_rest_size_ = 0, up_rest_offset_ = 0;
  bool client_eof_ = false, eof_sent_ = false, waiting_readable_ = false;
  // far end -> client
  std::unique_ptr<char[]> down_rest_;
  std::size_t down_rest_size_ = 0;
  bool writing_client_ = false, remote_eof_ = false;
  bool far_sent_data_ = false;
  bool awaiting_exit_status_ = false;  // netcat, EOF before data or after stderr: FIN or RST?
  std::string far_stderr_;             // tail of the far end's stderr, for the log line

  Ending ending_;
  bool remote_closed_ = false;
};

}  // namespace dvpn::ssh
