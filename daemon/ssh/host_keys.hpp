#pragma once
// Host key verification against an OpenSSH known_hosts file (strict or
// accept-new), and key fingerprints for log lines.
#include <libssh2.h>

#include <string>

#include "config.hpp"

namespace dvpn::ssh {

struct HostKeyVerdict {
  bool accepted = false;
  std::string detail;  // why not, or what was done ("added to known_hosts")
};

// Checks the session's host key for host:port. Under accept_new an unknown
// key is appended to the file; a changed key is refused under every policy.
HostKeyVerdict verify_host_key(LIBSSH2_SESSION* session, const std::string& host, std::uint16_t port,
                               const std::string& known_hosts_path, config::HostKeyPolicy policy);

// "ssh-ed25519 SHA256:..." for the session's host key, as OpenSSH prints it.
std::string host_key_fingerprint(LIBSSH2_SESSION* session);

}  // namespace dvpn::ssh
