#pragma once
// One client connection carried on one SSH channel: opening the channel,
// relaying both directions with backpressure and exact half-close, and the
// ending (FIN only after every byte arrived, RST otherwise).
//
// Backpressure: we read the channel only when the client socket took all
// earlier bytes (libssh2 re-opens the SSH window only as we read), and read
// the client only when the channel's window and the session's output have
// room. An idle connection holds no buffer: bytes pass through the session's
// scratch buffer, and only a remainder the other side could not take yet is
// kept, in a buffer sized to it.
//
// Files: tunnel.cpp (life and ending), tunnel_open.cpp, tunnel_relay.cpp.
#include <libssh2.h>

#include <chrono>
#include <memory>
#include <string>

#include "channel_host.hpp"
#include "connection.hpp"
#include "window_plan.hpp"

namespace dvpn::ssh {

// Bytes one side read that the other could not take yet.
class Remainder {
 public:
  bool empty() const noexcept { return offset_ == size_; }
  const char* data() const noexcept { return bytes_.get() + offset_; }
  std::size_t size() const noexcept { return size_ - offset_; }
  void keep(const char* data, std::size_t size);
  void consume(std::size_t n);  // frees the buffer once all is gone

 private:
  std::unique_ptr<char[]> bytes_;
  std::size_t size_ = 0, offset_ = 0;
};

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
  // of a busy but working session is not a sign of an unreachable endpoint.
  void restart_deadline(std::chrono::milliseconds timeout) { deadline_ = Clock::now() + timeout; }
  // Counts how often a pool had to retry this tunnel on another session.
  int retries = 0;

  // Ends a connection that never got a channel: RST and the log line.
  void reject(const std::string& reason);
  // The session that will open its channel (on that session's strand from here on).
  void attach(ChannelHost& host) noexcept { host_ = &host; }
  // A session channel the session opened ahead: try_open() only starts the command.
  void take_channel(LIBSSH2_CHANNEL* channel) noexcept { channel_ = channel; }
  // Its channel will carry another session (a relay's carrier): its receive
  // window may grow past one channel's (window_plan.hpp, max_window).
  void carry_session() noexcept { carrier_ = true; }

  // The channel is already open (a forwarded-tcpip channel the far end
  // opened, accepted by `host`): relaying starts with the next step.
  void adopt_open(ChannelHost& host, LIBSSH2_CHANNEL* channel);

  enum class OpenResult { pending, opened, refused, session_broken };
  // One attempt at opening the channel (and starting the far-end command in
  // netcat mode). `refused` leaves the reason in `open_error()`.
  OpenResult try_open();
  const std::string& open_error() const noexcept { return open_error_; }
  // The client gave up waiting while the open was in flight: close the
  // channel as soon as it exists.
  void abandon(const std::string& reason);
  bool abandoned() const noexcept { return abandoned_; }
  // Its channel exists (netcat mode: its command may still be starting).
  bool has_channel() const noexcept { return channel_ != nullptr; }
  // Lets libssh2 decode all buffered SSH input (a zero-length channel read);
  // false if this tunnel has no open channel to do it with.
  bool pull_input();

  // Moves bytes; true if it stopped only because its turn was used up.
  bool step();
  // False when step() would find nothing to do: no decoded data or EOF for
  // the channel, and the client side waits on a readiness callback of its
  // own. Cheap (libssh2 scans its queue of decoded packets, usually empty),
  // so a session with thousands of mostly idle channels visits only the
  // busy ones per input chunk.
  bool wants_step() const;
  // Channel closed and freed: the session may forget this tunnel.
  bool released() const noexcept { return state_ == State::released; }
  // RSTs the client and closes the channel (the slot is released after).
  void abort(const std::string& reason);
  // The session is gone: RST the client; libssh2 frees the channel with the session.
  void session_lost(const std::string& why);

 private:
  enum class State { opening, open, closing, released };
  static constexpr int turn_budget = 4;  // reads per direction before others get a turn

  // client -> far end
  struct Up {
    Remainder rest;
    bool client_eof = false;        // the client sent FIN
    bool eof_sent = false;          // ... and the far end was told
    bool waiting_readable = false;  // a readiness wait on the client is armed
  };
  // far end -> client
  struct Down {
    Remainder rest;
    bool writing_client = false;  // an async write of `rest` is in flight
    bool remote_eof = false;
    bool far_sent_data = false;
    bool awaiting_exit_status = false;  // netcat, EOF before data or after stderr: FIN or RST?
    bool remote_closed = false;         // the far end's CLOSE arrived
    std::string far_stderr;             // tail of the far end's stderr, for the log line
  };

  OpenResult open_channel();
  bool relay_down();
  bool relay_up();
  bool send_up_rest();
  bool send_eof();
  bool deliver_to_client(const char* data, std::size_t size);
  bool write_to_channel(const char* data, std::size_t size, std::size_t& written);
  void drain_stderr();
  void on_remote_eof();
  void check_finished();
  void end_by_exit_status();
  void begin_close(Ending ending);
  void close_step();
  void channel_error(int rc, const char* doing);
  void wait_client_readable();
  void write_rest_to_client();
  void tend_window();
  void grow_with_rate();
  void grow_window_to(std::uint32_t target);

  std::unique_ptr<Connection> connection_;
  ChannelHost* host_ = nullptr;
  Clock::time_point deadline_;
  Clock::time_point last_active_ = Clock::now();
  LIBSSH2_CHANNEL* channel_ = nullptr;
  State state_ = State::opening;
  bool exec_started_ = false;
  bool abandoned_ = false;
  bool carrier_ = false;
  std::string open_error_;
  std::string open_message_;  // direct-tcpip request, kept across open retries
  Up up_;
  Down down_;
  // The receive window (window_plan.hpp): what we aim to keep open, what it
  // costs the budget, and a window adjust libssh2 could not send yet.
  std::shared_ptr<window::Budget> budget_;
  std::uint32_t window_target_ = window::floor_window;
  std::uint64_t window_charge_ = 0;
  std::uint32_t adjust_pending_ = 0;
  // Bytes the far end sent since `epoch_start_`: its rate over a round trip.
  Clock::time_point epoch_start_{};
  std::uint64_t epoch_bytes_ = 0;
  Ending ending_;
};

}  // namespace dvpn::ssh
