#pragma once
// The pool of SSH sessions to one SSH endpoint: sessions open lazily with one
// handshake in flight, channels spread over up to max_sessions_per_gateway
// sessions within the per-session channel limits (the Ledger's rules),
// connections wait up to connect_timeout for a free channel, idle sessions
// close, and failed handshakes back off.
//
// All pool state lives on the pool's strand; sessions report SessionEvents,
// which the pool re-posts onto it.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "ledger.hpp"
#include "ssh/session.hpp"
#include "ssh/tunnel.hpp"

namespace dvpn::pool {

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
  // Health, for the per-site lines of the status view:
  std::optional<std::chrono::microseconds> rtt;  // the lowest of the ready sessions' round-trip times
  std::optional<Clock::time_point> up_since;     // since when a session has been ready without a break
  std::optional<Clock::time_point> last_error_at;
  bool failing = false;  // the last session to end failed (handshake or death), none became ready since
};

class EndpointPool : public std::enable_shared_from_this<EndpointPool> {
 public:
  // One pool per path: `key.relay` set, its sessions run through `dial`
  // (a channel of a session to the relay) to `key.target`.
  EndpointPool(boost::asio::io_context& io, SshPath key, std::shared_ptr<const ssh::SessionSettings> settings,
               Limits limits, ssh::Session::Dial dial = {});

  // Carries the tunnel's connection, or resets it (thread-safe). A probe's
  // (probe.hpp) is not counted among the connections the pool carried.
  void submit(std::shared_ptr<ssh::Tunnel> tunnel, bool probe = false);
  // Resets everything (daemon shutdown).
  void shutdown(const std::string& why);
  // The host's network changed (net::LinkWatcher): sessions whose address
  // went away end now; with `gained`, the handshake backoff is over, so a
  // connection waiting or the next one gets a handshake at once. Thread-safe.
  void network_changed(bool gained);
  // Its last handshake failed and no session is ready: a site's later paths are tried first.
  bool failing() const noexcept { return failing_now_.load(std::memory_order_relaxed); }
  // A connection went to a later path because this one is failing: keep
  // retrying in the background (after each backoff) for a while, so that new
  // connections come back once it works.
  void keep_probing();
  // Where the connections that were waiting go when this path fails: the
  // next path of their site, if it has one (false: reset them).
  using Fallback = std::function<bool(const std::shared_ptr<ssh::Tunnel>&)>;
  void set_fallback(Fallback fallback) { fallback_ = std::move(fallback); }
  Stats stats() const;

 private:
  struct Live {
    std::shared_ptr<ssh::Session> session;
    std::shared_ptr<boost::asio::steady_timer> idle_timer;
    bool ready = false;
    std::optional<std::chrono::microseconds> rtt;  // its latest sample
  };

  void on_event(ssh::SessionEvent event);
  void on_ready(SessionId id, std::optional<std::chrono::microseconds> rtt);
  void on_ended(const ssh::SessionEvent& event);
  void on_open_finished(ssh::SessionEvent event);
  void on_released(SessionId id, Mode mode);

  void dispatch();
  void assign(SessionId id, std::shared_ptr<ssh::Tunnel> tunnel);  // to that ready session, which opens its channel
  void start_session();
  void reject_waiting(const std::string& reason);
  // The path failed with nothing left: its waiting connections try their next path, or are reset.
  void hand_off_waiting(const std::string& reason);
  void arm_probe();
  static long long now_ms();
  // Puts a tunnel back at the head of the wait queue, or resets it with
  // `exhausted` once it has been retried max_retries times.
  void retry_first(std::shared_ptr<ssh::Tunnel> tunnel, const std::string& exhausted);
  void arm_wait_timer();
  void on_wait_timer();
  void arm_idle_timer(SessionId id);
  void pause_after_refusal();
  void record_failure(const std::string& why);
  void publish_counts();
  void publish_rtt();

  boost::asio::io_context& io_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  SshPath key_;
  ssh::Session::Dial dial_;  // empty: TCP to key_.target
  std::shared_ptr<const ssh::SessionSettings> settings_;
  Limits limits_;
  Ledger ledger_;
  std::unordered_map<SessionId, Live> sessions_;
  std::deque<std::shared_ptr<ssh::Tunnel>> waiting_;
  boost::asio::steady_timer wait_timer_;
  bool carried_netcat_ = false;  // new sessions keep spare channels from the start (warm ones have none otherwise)
  boost::asio::steady_timer retry_timer_;  // re-dispatch after a refusal on an otherwise idle session

  std::atomic<unsigned> stat_sessions_{0}, stat_ready_{0}, stat_channels_{0}, stat_waiting_{0};
  std::atomic<std::uint64_t> stat_connections_{0}, stat_up_{0}, stat_down_{0}, stat_failures_{0};
  std::atomic<std::uint64_t> stat_handshake_failures_{0}, stat_deaths_{0}, stat_reconnects_{0};
  // The round-trip time is sampled by each ready session on its tick and
  // reaches us as an event (the socket is the session's, on its strand);
  // here on our strand we keep the best, for stats() on any thread.
  std::atomic<std::int64_t> stat_rtt_us_{-1};  // -1: none
  bool up_ = false;                             // on the strand: a session was ready at the last publish
  mutable std::mutex health_mu_;                // the rest, written on the strand, read by stats()
  std::string last_error_;
  std::optional<Clock::time_point> last_error_at_, up_since_;
  bool failing_ = false;
  std::atomic<bool> failing_now_{false};  // failing_, readable from any thread
  std::atomic<long long> probe_until_ms_{0};  // steady clock, ms: keep_probing()'s horizon
  boost::asio::steady_timer probe_timer_;
  Fallback fallback_;
};

}  // namespace dvpn::pool
