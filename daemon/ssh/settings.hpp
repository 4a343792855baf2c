#pragma once
// What every SSH session of the daemon shares, taken from the config once.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "config.hpp"
#include "window_plan.hpp"

namespace dvpn::ssh {

struct SessionSettings {
  std::string identity;
  std::string known_hosts;
  config::HostKeyPolicy host_key_policy = config::HostKeyPolicy::strict;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds keepalive{15000};
  std::uint32_t window_size = 4u << 20;  // the most one channel's window grows to
  // limits.buffer_budget: what all channels' windows may grow by together
  // (window_plan.hpp). One for the daemon's life: the settings are made once.
  std::shared_ptr<window::Budget> window_budget = std::make_shared<window::Budget>(64u << 20);
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


// How often a ready session wakes up: for its SSH keepalive, and often
// enough that an idle connection is ended at most half its limit late.
// Zero when neither is configured (no timer at all).
std::chrono::milliseconds tick_interval(const SessionSettings& settings);

}  // namespace dvpn::ssh
