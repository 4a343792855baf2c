#pragma once
// The pool of SSH sessions to one remote gateway (one endpoint): sessions
// open lazily with one handshake in flight, channels spread over up to
// max_sessions_per_gateway sessions within the per-session channel limits,
// connections wait (up to connect_timeout) for a free channel, idle sessions
// close, and failed handshakes back off.
//
// All pool state lives on the pool's strand; sessions report through
// SessionObserver and the pool re-posts their news onto its strand.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ssh/session.hpp"
#include "ssh/tunnel.hpp"

namespace dvpn::gateway {

using Duration = std::chrono::milliseconds;

struct Limits {
  unsigned exec_channels_per_session = 10;
  unsigned direct_channels_per_session = 2000;
  unsigned sessions = 8;
  unsigned spread_sessions = 2;  // sessions opened early so busy channels use every core
  Duration idle_timeout{60000};
  Duration connect_timeout{5000};
};

// A snapshot for the status view.
struct Stats {
  std::string endpoint;
  unsigned sessions = 0;        // every session, handshakes in progress included
  unsigned ready_sessions = 0;  // of those, the ones carrying channels
  unsigned channels = 0;
  unsigned waiting = 0;
  std::uint64_t connections = 0;
  std::uint64_t bytes_up = 0;
  std::uint64_t bytes_down = 0;
  std::uint64_t failures = 0;            // handshake_failures + session_deaths
  std::uint64_t handshake_failures = 0;  // sessions that never became ready
  std::uint64_t session_deaths = 0;      // ready sessions that died (not idle closes)
  std::uint64_t reconnects = 0;          // sessions started after a failure, before the next success
  std::string last_error;
};

class Gateway : public ssh::SessionObserver, public std::enable_shared_from_this<Gateway> {
 public:
  Gateway(boost::asio::io_context& io, GatewayKey key, std::shared_ptr<const ssh::SessionSettings> settings,
          Limits limits);

  // Carries the tunnel's connection, or resets it (thread-safe).
  void submit(std::shared_ptr<ssh::Tunnel> tunnel);
  // Resets everything (daemon shutdown).
  void shutdown(const std::string& why);
  Stats stats() const;

  void on_session_ready(std::uint64_t session_id) override;
  void on_session_ended(std::uint64_t session_id, bool was_ready, const std::string& why) override;
  void on_open_done(std::uint64_t session_id) override;
  void on_session_full(std::uint64_t session_id, std::shared_ptr<ssh::Tunnel> tunnel) override;
  void on_opens_stalled(std::uint64_t session_id, std::vector<std::shared_ptr<ssh::Tunnel>> queued) override;
  void on_channel_released(std::uint64_t session_id, hostsdb::Mode mode, std::uint64_t up,
                           std::uint64_t down) override;

 private:
  using Clock = std::chrono::steady_clock;
  struct Slot {
    std::shared_ptr<ssh::Session> session;
    bool ready = false;
    unsigned exec = 0, direct = 0;
    unsigned opening = 0;                // channel opens handed over and not finished
    std::optional<unsigned> exec_cap;    // set when the far end refused: its real limit for now
    bool stalled = false;                // its open in progress is stuck: no new opens (on_opens_stalled)
    std::shared_ptr<boost::asio::steady_timer> idle_timer;
  };

  void dispatch();
  Slot* pick(hostsdb::Mode mode);
  Slot* find(std::uint64_t session_id);
  bool want_another_session() const;
  void start_session();
  void reject_waiting(const std::string& reason);
  // A channel counted on `slot` is no longer: released, refused or moved away.
  void uncount_channel(Slot& slot, hostsdb::Mode mode);
  // Puts a tunnel back at the head of the wait queue, or resets it with
  // `exhausted` once it has been retried max_retries times.
  void retry_first(std::shared_ptr<ssh::Tunnel> tunnel, const std::string& exhausted);
  void arm_wait_timer();
  void on_wait_timer();
  void arm_idle_timer(Slot& slot);
  void record_failure(const std::string& why);
  void retry_later();

  boost::asio::io_context& io_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  GatewayKey key_;
  std::shared_ptr<const ssh::SessionSettings> settings_;
  Limits limits_;
  std::vector<Slot> slots_;
  std::deque<std::shared_ptr<ssh::Tunnel>> waiting_;
  boost::asio::steady_timer wait_timer_;
  boost::asio::steady_timer retry_timer_;  // re-dispatch after a refusal on an otherwise idle session
  bool connecting_ = false;
  Clock::time_point retry_after_{};
  Duration backoff_{0};
  bool failed_since_ready_ = false;  // a session failed since one last became ready

  void count_sessions();

  std::atomic<unsigned> stat_sessions_{0}, stat_ready_{0}, stat_channels_{0}, stat_waiting_{0};
  std::atomic<std::uint64_t> stat_connections_{0}, stat_up_{0}, stat_down_{0}, stat_failures_{0};
  std::atomic<std::uint64_t> stat_handshake_failures_{0}, stat_deaths_{0}, stat_reconnects_{0};
  mutable std::mutex error_mu_;
  std::string last_error_;
};

}  // namespace dvpn::gateway
