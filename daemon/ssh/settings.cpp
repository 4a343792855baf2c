#include "settings.hpp"

#include <algorithm>

namespace dvpn::ssh {

SessionSettings SessionSettings::from(const config::Config& cfg) {
  SessionSettings s;
  s.identity = cfg.ssh.identity;
  s.known_hosts = cfg.ssh.known_hosts;
  s.host_key_policy = cfg.ssh.host_key_policy;
  s.connect_timeout = cfg.ssh.connect_timeout;
  s.keepalive = cfg.ssh.keepalive;
  s.connection_idle_timeout = cfg.connection_idle_timeout;
  s.window_size = cfg.ssh.window_size;
  s.exec_channels = cfg.ssh.max_channels_per_session;
  return s;
}

std::uint32_t channel_window(const SessionSettings& settings, std::uint32_t channels) {
  return std::clamp(session_window_budget / std::max(channels, 1u), std::min(min_window, settings.window_size),
                    settings.window_size);
}

std::chrono::milliseconds tick_interval(const SessionSettings& settings) {
  const auto keepalive = settings.keepalive;
  const auto idle_check = settings.connection_idle_timeout / 2;
  if (keepalive.count() <= 0) return idle_check;
  if (idle_check.count() <= 0) return keepalive;
  return std::min(keepalive, idle_check);
}

}  // namespace dvpn::ssh
