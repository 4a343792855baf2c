#include "settings.hpp"

namespace dvpn::ssh {

SessionSettings SessionSettings::from(const config::Config& cfg) {
  SessionSettings s;
  s.identity = cfg.ssh.identity;
  s.known_hosts = cfg.ssh.known_hosts;
  s.host_key_policy = cfg.ssh.host_key_policy;
  s.connect_timeout = cfg.ssh.connect_timeout;
  s.keepalive = cfg.ssh.keepalive;
  s.window_size = cfg.ssh.window_size;
  return s;
}

}  // namespace dvpn::ssh
