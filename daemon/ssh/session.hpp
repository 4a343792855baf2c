#pragma once
// One SSH connection to a far end, driven without blocking from the Asio
// event loop, carrying many channels (one Tunnel per client connection).
//
// Its parts: a TcpDialer finds the path, a Wire carries libssh2's bytes over
// the Transport, an OpenQueue runs channel opens one at a time, and the pump
// gives every channel with work its turn whenever input arrives. What the
// pool needs to know leaves as SessionEvents.
//
// Everything of a session (libssh2 calls, its channels, their client sockets)
// runs on the session's strand; different sessions run on different threads.
#include <libssh2.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "channel_host.hpp"
#include "open_queue.hpp"
#include "session_event.hpp"
#include "settings.hpp"
#include "target.hpp"
#include "wire.hpp"

namespace dvpn::ssh {

class TcpDialer;

class Session final : public ChannelHost, public std::enable_shared_from_this<Session> {
 public:
  // Another way to the far end's sshd than a TcpDialer (a channel through a
  // relay): called once on the session's strand at start(); a transport the
  // handshake can begin on at once, or null with `error` saying why not.
  using Dial = std::function<std::unique_ptr<Transport>(Strand& strand, std::string& error)>;

  // Without `dial`, a TcpDialer connects to `key`.
  Session(boost::asio::io_context& io, SshEndpoint key, std::shared_ptr<const SessionSettings> settings,
          SessionEvents events, Dial dial = {});
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  std::uint64_t id() const noexcept { return id_; }
  // Resolves, connects, handshakes and authenticates; `ready` or `ended` follows.
  void start();
  // Opens a channel for the tunnel (thread-safe); `open_finished` follows.
  void adopt(std::shared_ptr<Tunnel> tunnel);
  // Netcat connections are coming (its pool has carried some): keep spare
  // session channels from the start, not only after the first one. Thread-safe.
  void expect_netcat();
  // Says goodbye to the far end and closes; only used when no channel is left.
  void close_idle();
  // Resets every connection and drops the session (daemon shutdown).
  void abort(const std::string& why);
  // The host's addresses changed (net::LinkWatcher): if this session's own
  // address is gone, it is dead now, as if its keepalive had found it so
  // (its connections get an RST). Thread-safe.
  void check_local_address();

  // Remote forwarding (relay_listen, a site behind NAT): once ready, asks the
  // far end to listen on host:port (tcpip-forward) and hands every
  // forwarded-tcpip channel it accepts to `accepted`, on the strand.
  // `listening` follows with "" or why not (refused: the session lives on;
  // call again to retry). Thread-safe.
  struct Forward {
    std::string host;
    std::uint16_t port = 0;
    std::function<void(const std::string& error)> listening;
    std::function<void(LIBSSH2_CHANNEL* channel)> accepted;
  };
  void request_forward(Forward forward);
  // On the strand: a tunnel whose channel is already open (an accepted
  // forwarded-tcpip one, Tunnel::adopt_open) joins the pump; reset if the
  // session is not ready any more.
  void carry(std::shared_ptr<Tunnel> tunnel);

  // --- ChannelHost, on the strand ---
  Strand& strand() noexcept override { return strand_; }
  LIBSSH2_SESSION* handle() noexcept override { return ssh_; }
  std::vector<char>& scratch() noexcept override;
  bool congested() const noexcept override { return wire_.congested(); }
  std::uint32_t window_max() const noexcept override { return settings_->window_size; }
  std::chrono::microseconds path_rtt() const noexcept override { return path_rtt_; }
  const std::shared_ptr<window::Budget>& window_budget() const noexcept override { return settings_->window_budget; }
  void wake(const std::shared_ptr<Tunnel>& tunnel) override;
  void note_partial_read() noexcept override { rescan_ = true; }
  void fail(const std::string& why) override;
  void channel_released(hostsdb::Mode mode, std::uint64_t up, std::uint64_t down) override;
  std::shared_ptr<ChannelHost> keep_alive() override { return shared_from_this(); }

 private:
  enum class State { idle, connecting, handshake, auth, prelude, ready, closing, dead };

  // session.cpp: set-up and the end
  void on_setup_deadline(const boost::system::error_code& ec);
  void on_dialed(std::optional<boost::asio::ip::tcp::socket> socket, const std::string& error);
  void begin_ssh(std::unique_ptr<Transport> transport);
  void step_setup();
  void became_ready();
  // session_prelude.cpp: one exec per connection, so sshd turns Nagle off
  bool step_prelude_open();
  void step_prelude();
  void arm_tick();  // every tick_interval: the SSH keepalive, the end of idle connections, the RTT
  void end_idle_tunnels();
  void report_rtt();  // an `rtt` event with the transport's round-trip time
  void step_forward();  // the tcpip-forward request, then accepting its channels
  void teardown();
  void emit(SessionEvent event);
  std::string peer() const;  // "session N to user@host:port"

  // session_channels.cpp: opens and the pump
  std::chrono::milliseconds slow_open_after() const;
  void note_open_time(std::chrono::steady_clock::time_point now);
  void arm_open_deadline();
  void on_open_deadline();
  void step_opening();
  // What an open that finished (opened, refused, broke) means for the tunnel; false if the session broke.
  bool finish_open(std::shared_ptr<Tunnel> tunnel, int result);
  // session_spares.cpp: session channels opened ahead for netcat mode
  bool take_spare(const std::shared_ptr<Tunnel>& tunnel);
  void keep_spares();  // from now on: the session carries netcat, start at spare_channels
  bool step_spare_open();  // true when no spare open is in progress any more
  void maybe_open_spare();
  void step_execs();
  void open_finished(std::shared_ptr<Tunnel> tunnel, OpenOutcome outcome);
  void hand_back(std::vector<std::shared_ptr<Tunnel>> tunnels);
  void pump();
  void schedule_pump();
  void drain_transport();
  void keep_io_going();

  Strand strand_;
  boost::asio::steady_timer timer_;       // setup deadline, then the tick
  boost::asio::steady_timer open_timer_;  // deadline of the oldest pending channel open
  SshEndpoint key_;
  std::shared_ptr<const SessionSettings> settings_;
  SessionEvents events_;
  std::uint64_t id_;
  LIBSSH2_SESSION* ssh_ = nullptr;
  State state_ = State::idle;
  Dial dial_;
  std::shared_ptr<TcpDialer> dialer_;
  LIBSSH2_CHANNEL* prelude_ = nullptr;  // the session channel of the prelude exec, until closed
  bool prelude_exec_done_ = false;
  Wire wire_;

  OpenQueue<std::shared_ptr<Tunnel>> opens_;
  std::vector<std::shared_ptr<Tunnel>> execs_;  // netcat tunnels starting their command on a spare channel
  std::vector<LIBSSH2_CHANNEL*> spares_;        // open session channels, no command yet
  bool spare_opening_ = false;                  // libssh2's one open of the session is a spare's
  bool netcat_seen_ = false;                    // only sessions that carry netcat keep spares
  unsigned spare_target_ = 0;                   // spares wanted: grows with bursts (settings' spare_channels*)
  std::vector<std::shared_ptr<Tunnel>> tunnels_;
  double usual_open_ms_ = 0;               // moving average of how long a head open takes
  std::chrono::microseconds path_rtt_{0};  // the transport's, at ready and each tick; 0: not known
  bool pump_scheduled_ = false;
  bool rescan_ = false;

  std::optional<Forward> forward_;
  bool forward_wanted_ = false;           // a tcpip-forward request is to be sent or is in flight
  LIBSSH2_LISTENER* listener_ = nullptr;  // the far end listens; freed with ssh_
};

}  // namespace dvpn::ssh
