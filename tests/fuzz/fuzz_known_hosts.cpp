// libFuzzer target: the known_hosts reader and host key check
// (daemon/ssh/host_keys.cpp, verify_host_key) on any file content, through
// libssh2's own known_hosts parser as dvpnd uses it.
//
// verify_host_key asks the session for the server's host key; a session gets
// one only from a key exchange, so this target defines the two libssh2
// accessors it calls (libssh2_session_hostkey, libssh2_hostkey_hash): the
// executable's definitions win over libssh2.so's, and the rest of libssh2
// (knownhost_init/readline/checkp) is the real library.
//
// Input: byte 0 picks the offered key (ed25519, ecdsa-256, rsa, another
// ed25519), the policy (strict / accept-new), the port (22 / 2222) and the
// host name; the rest is the known_hosts file. The file is a memfd, rewritten
// per input (accept-new appends to it).
#include <libssh2.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "base64.hpp"
#include "host_keys.hpp"

namespace {

std::string offered_key;
int offered_type = LIBSSH2_HOSTKEY_TYPE_ED25519;
LIBSSH2_SESSION* session = nullptr;
int file_fd = -1;
std::string file_path;
bool verbose = false;  // FUZZ_VERBOSE=1: print each verdict (replaying an input)

// The keys of the seed corpus's known_hosts lines.
const std::string ed25519 = dvpn::ssh::base64_decode(
    "AAAAC3NzaC1lZDI1NTE5AAAAID8mclGIxY7XDX276wg4HKU/bQgxbUCVyRkMG0YtjhYT");
const std::string ed25519_other = dvpn::ssh::base64_decode(
    "AAAAC3NzaC1lZDI1NTE5AAAAIBi9n732LQ9BwdpH9noeHjh9kR1iKtavsP322lGpaSkc");
const std::string ecdsa = dvpn::ssh::base64_decode(
    "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBL4W0RnUvIdl44rys5op4wBC37PPWSsl/"
    "fF1oLp+M8EAnv9sj1G1INYezn3Ct8mEs95Ko1hnJIM2YJhgDtIRFS4=");

}  // namespace

extern "C" const char* libssh2_session_hostkey(LIBSSH2_SESSION*, size_t* len, int* type) {
  *len = offered_key.size();
  *type = offered_type;
  return offered_key.data();
}

extern "C" const char* libssh2_hostkey_hash(LIBSSH2_SESSION*, int) {
  static const char hash[32] = {1, 2, 3};
  return hash;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (libssh2_init(0) != 0) std::abort();
  session = libssh2_session_init();
  file_fd = memfd_create("known_hosts", MFD_CLOEXEC);
  if (!session || file_fd < 0) std::abort();
  file_path = "/proc/self/fd/" + std::to_string(file_fd);
  verbose = std::getenv("FUZZ_VERBOSE") != nullptr;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned flags = data[0];
  switch (flags & 3) {
    case 0: offered_key = ed25519, offered_type = LIBSSH2_HOSTKEY_TYPE_ED25519; break;
    case 1: offered_key = ecdsa, offered_type = LIBSSH2_HOSTKEY_TYPE_ECDSA_256; break;
    case 2: offered_key = ed25519, offered_type = LIBSSH2_HOSTKEY_TYPE_RSA; break;
    default: offered_key = ed25519_other, offered_type = LIBSSH2_HOSTKEY_TYPE_ED25519; break;
  }
  const auto policy = flags & 4 ? dvpn::config::HostKeyPolicy::accept_new : dvpn::config::HostKeyPolicy::strict;
  const std::uint16_t port = flags & 8 ? 2222 : 22;
  const std::string host = flags & 16 ? "gw.example" : "198.51.100.2";

  if (ftruncate(file_fd, 0) != 0) std::abort();
  if (size > 1 && pwrite(file_fd, data + 1, size - 1, 0) != static_cast<ssize_t>(size - 1)) std::abort();
  const auto verdict = dvpn::ssh::verify_host_key(session, host, port, file_path, policy);
  if (verbose) std::fprintf(stderr, "%s: %s\n", verdict.accepted ? "accepted" : "refused", verdict.detail.c_str());
  if (verdict.detail.empty()) std::abort();
  // A key of a refused type is never accepted, whatever the file says.
  if (verdict.accepted && offered_type == LIBSSH2_HOSTKEY_TYPE_RSA) std::abort();
  // Strict never accepts a key the file does not list (the other ed25519
  // key appears in no seed, but the fuzzer may write it: only then is a
  // strict accept right, and the detail says it matched).
  if (verdict.accepted && policy == dvpn::config::HostKeyPolicy::strict &&
      verdict.detail.find("matches") == std::string::npos)
    std::abort();
  return 0;
}
