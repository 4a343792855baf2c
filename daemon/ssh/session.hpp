#pragma once
// One SSH connection to a remote gateway, driven without blocking from the
// Asio event loop, carrying many channels (one per client connection).
//
// libssh2 never touches the socket: its send callback appends to our output
// queue and always reports success, its recv callback serves bytes we read
// ahead. So no libssh2 call ever half-sends a packet, the 1.10 traps around
// EAGAIN on send cannot happen (doc/ssh-notes.md §1), and "would block"
// only ever means "need more input", which our one outstanding read brings.
//
// Everything of a session (libssh2 calls, its channels, their client sockets)
// runs on the session's strand; different sessions run on different threads.
#include <libssh2.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "settings.hpp"
#include "target.hpp"

namespace dvpn::ssh {

class Tunnel;

// What a session tells its gateway pool. Called on the session's strand;
// implementations hand the news over to their own strand.
class SessionObserver {
 public:
  virtual ~SessionObserver() = default;
  virtual void on_session_ready(std::uint64_t session_id) = 0;
  virtual void on_session_ended(std::uint64_t session_id, bool was_ready, const std::string& why) = 0;
  // A channel open finished one way or another (opened, refused, given up):
  // the pool counts opens in flight to spread them over sessions, since
  // libssh2 1.10 opens one channel at a time per session.
  virtual void on_open_done(std::uint64_t session_id) = 0;
  // The far end refused a session channel: it has fewer exec slots than we
  // counted (OpenSSH MaxSessions). The tunnel goes back to the pool to retry.
  virtual void on_session_full(std::uint64_t session_id, std::shared_ptr<Tunnel> tunnel) = 0;
  // The open at the head of the session's queue outlived its deadline (a
  // destination the far end cannot reach nor refuse, e.g. blackholed), and
  // libssh2 1.10 can neither cancel it nor start another open on the session
  // until its own 60 s timeout. The opens queued behind it go back to the
  // pool, which gives the session no new opens until on_open_done says the
  // stuck one finished.
  virtual void on_opens_stalled(std::uint64_t session_id, std::vector<std::shared_ptr<Tunnel>> queued) = 0;
  // A channel's CLOSE exchange finished: its slot on the far end is free.
  virtual void on_channel_released(std::uint64_t session_id, hostsdb::Mode mode, std::uint64_t up,
                                   std::uint64_t down) = 0;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;
  using tcp = boost::asio::ip::tcp;

  Session(boost::asio::io_context& io, GatewayKey key, std::shared_ptr<const SessionSettings> settings,
          std::weak_ptr<SessionObserver> observer);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  std::uint64_t id() const noexcept { return id_; }
  // Resolves, connects, handshakes and authenticates; reports to the observer.
  void start();
  // Opens a channel for the tunnel (thread-safe).
  void adopt(std::shared_ptr<Tunnel> tunnel);
  // Says goodbye to the far end and closes; only used when no channel is left.
  void close_idle();
  // Resets every connection and drops the session (daemon shutdown).
  void abort(const std::string& why);

  // --- for Tunnel (on the strand) ---
  Strand& strand() noexcept { return strand_; }
  LIBSSH2_SESSION* handle() noexcept { return ssh_; }
  // Shared read buffer: the relay moves bytes through it without keeping any per idle connection.
  std::vector<char>& scratch() noexcept { return scratch_; }
  // True while our output queue is above its high-water mark: stop producing.
  bool congested() const noexcept { return out_pending_.size() >= out_high_water; }
  // The receive window for a channel opened now.
  std::uint32_t window_for_new_channel() const noexcept;
  // Runs one tunnel's step, and everyone's if it pulled in SSH input.
  void pump_tunnel(const std::shared_ptr<Tunnel>& tunnel);
  // Runs every tunnel's step (posted, so callers never re-enter).
  void schedule_pump();
  // Some libssh2 calls (channel open, exec, close) return as soon as the one
  // reply they wait for is decoded, leaving later packets undecoded inside
  // libssh2 where our input counters cannot see them; the caller says so,
  // and the pump decodes the rest and gives every channel another look.
  void note_partial_read() noexcept { rescan_ = true; }
  // A libssh2 error that broke the session.
  void fail(const std::string& why);
  void channel_released(hostsdb::Mode mode, std::uint64_t up, std::uint64_t down);

 private:
  enum class State { idle, resolving, connecting, handshake, auth, ready, closing, dead };
  static constexpr std::size_t out_high_water = 256 * 1024;
  static constexpr std::size_t in_capacity = 256 * 1024;

  static ssize_t send_callback(libssh2_socket_t, const void* buffer, size_t length, int, void** abstract);
  static ssize_t recv_callback(libssh2_socket_t, void* buffer, size_t length, int, void** abstract);

  // Names go to getaddrinfo on a thread of their own (never behind another
  // lookup); IP literals skip it. Either way the endpoints land in connect_next().
  void start_lookup();
  void on_resolved(int gai_error, std::vector<tcp::endpoint> endpoints);
  // Tries endpoints_ in order; each attempt gets an equal share of what is
  // left of connect_timeout (the last one all of it).
  void connect_next();
  void on_connected(const boost::system::error_code& ec, unsigned attempt);
  void on_setup_deadline(const boost::system::error_code& ec);
  void arm_open_deadline();
  void on_open_deadline();
  void step_setup();
  bool step_opening();
  // The open at the head of the queue is past its deadline and still running.
  bool open_stalled() const;
  void pump();
  void drain_transport();
  void start_read();
  void start_write();
  // start_write() once the handlers already queued on the strand have run:
  // packets that several channels produce for one burst of events leave in
  // one send (each send to the far end costs a full trip through the stack).
  void request_write();
  // Every tick_interval: the SSH keepalive and the end of idle connections.
  void arm_tick();
  void end_idle_tunnels();
  void teardown();

  Strand strand_;
  tcp::socket socket_;
  boost::asio::steady_timer timer_;       // setup deadline, then the tick
  boost::asio::steady_timer connect_timer_;  // bound of the current connect attempt
  std::vector<tcp::endpoint> endpoints_;     // resolved, in getaddrinfo's order
  std::size_t next_endpoint_ = 0;
  unsigned connect_attempt_ = 0;             // tells a stale attempt's completion apart
  bool attempt_timed_out_ = false;
  std::string connect_errors_;               // "ADDR: why; ..." of the attempts so far
  boost::asio::steady_timer open_timer_;  // deadline of the oldest pending channel open
  GatewayKey key_;
  std::shared_ptr<const SessionSettings> settings_;
  std::weak_ptr<SessionObserver> observer_;
  std::uint64_t id_;
  LIBSSH2_SESSION* ssh_ = nullptr;
  State state_ = State::idle;

  std::vector<char> in_;
  std::size_t in_begin_ = 0, in_end_ = 0;
  std::uint64_t in_consumed_ = 0;  // grows whenever libssh2 took input
  bool reading_ = false;
  std::vector<char> out_pending_, out_writing_;
  bool writing_ = false;
  bool write_requested_ = false;

  std::deque<std::shared_ptr<Tunnel>> opening_;  // channel opens, strictly one at a time
  std::vector<std::shared_ptr<Tunnel>> tunnels_;
  std::vector<char> scratch_;
  bool pump_scheduled_ = false;
  bool rescan_ = false;
};

}  // namespace dvpn::ssh
