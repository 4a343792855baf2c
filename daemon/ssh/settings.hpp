#pragma once
// What every SSH session of the daemon shares, taken from the config once.
#include <chrono>
#include <cstdint>
#include <string>

#include "config.hpp"

namespace dvpn::ssh {

struct SessionSettings {
  std::string identity;
  std::string known_hosts;
  config::HostKeyPolicy host_key_policy = config::HostKeyPolicy::strict;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds keepalive{15000};
  std::uint32_t window_size = 1u << 20;
  std::chrono::milliseconds connection_idle_timeout{0};  // 0: connections never time out
  unsigned exec_channels = 10;  // session channels per session the far end allows (ssh.max_channels_per_session)
  // Session channels a session keeps open ahead, for netcat mode: a
  // connection then pays only its exec, and execs, unlike opens, run in
  // parallel. It starts at the first number and grows by one, up to the
  // second, whenever a connection finds none left (a burst).
  unsigned spare_channels = 2;
  unsigned spare_channels_max = 8;

  static SessionSettings from(const config::Config& cfg);
};

// Receive windows: what the far end may send ahead on a channel.
// Bytes the far end may send ahead on all of a session's channels together:
// a reply to a channel open queues behind them, so the window a new channel
// gets shrinks as the session fills (never below min_window, never above the
// configured window_size).
inline constexpr std::uint32_t session_window_budget = 4u << 20;
inline constexpr std::uint32_t min_window = 256u << 10;
// A new channel's window, `channels` counting it and the session's others.
std::uint32_t channel_window(const SessionSettings& settings, std::uint32_t channels);
// A relay's carrier channel (pool/relay_dial.cpp) carries a whole session,
// whose channels together may have session_window_budget in flight, plus
// that session's own packet framing and MACs: with one channel's window
// instead (1 MiB by default), every session through the relay would get a
// quarter of what the same session gets on a direct path.
inline constexpr std::uint32_t carrier_window = session_window_budget + session_window_budget / 32;

// How often a ready session wakes up: for its SSH keepalive, and often
// enough that an idle connection is ended at most half its limit late.
// Zero when neither is configured (no timer at all).
std::chrono::milliseconds tick_interval(const SessionSettings& settings);

}  // namespace dvpn::ssh
