#include "host_keys.hpp"

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "base64.hpp"

namespace dvpn::ssh {
namespace {

struct KnownHostsDeleter {
  void operator()(LIBSSH2_KNOWNHOSTS* kh) const { libssh2_knownhost_free(kh); }
};
using KnownHostsPtr = std::unique_ptr<LIBSSH2_KNOWNHOSTS, KnownHostsDeleter>;

const char* key_type_name(int type) {
  switch (type) {
    case LIBSSH2_HOSTKEY_TYPE_ED25519: return "ssh-ed25519";
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return "ecdsa-sha2-nistp256";
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return "ecdsa-sha2-nistp384";
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return "ecdsa-sha2-nistp521";
    case LIBSSH2_HOSTKEY_TYPE_RSA: return "ssh-rsa";
    case LIBSSH2_HOSTKEY_TYPE_DSS: return "ssh-dss";
    default: return "unknown";
  }
}

int knownhost_key_bits(int type) {
  switch (type) {
    case LIBSSH2_HOSTKEY_TYPE_ED25519: return LIBSSH2_KNOWNHOST_KEY_ED25519;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
    case LIBSSH2_HOSTKEY_TYPE_RSA: return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
    case LIBSSH2_HOSTKEY_TYPE_DSS: return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
    default: return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
  }
}

// The name OpenSSH writes for host:port in known_hosts.
std::string known_hosts_name(const std::string& host, std::uint16_t port) {
  if (port == 22) return host;
  return "[" + host + "]:" + std::to_string(port);
}

// The key blob of a "@revoked HOSTS TYPE BASE64" line; "" if it is not one.
std::string revoked_key(const std::string& line) {
  std::istringstream fields(line);
  std::string marker, hosts, type, base64;
  if (!(fields >> marker >> hosts >> type >> base64) || marker != "@revoked") return {};
  return base64_decode(base64);
}

struct KnownHosts {
  KnownHostsPtr entries;
  // Keys marked @revoked, which libssh2 1.10 cannot parse (it skips the line,
  // so a revoked key would count as unknown and accept-new would add it).
  // Refused for every host: a key revoked for one host is not trusted for another.
  std::vector<std::string> revoked;
};

// Reads the file line by line: libssh2's readfile stops at the first line it
// cannot parse (e.g. a key type it does not know), losing every line after it.
KnownHosts load_known_hosts(LIBSSH2_SESSION* session, const std::string& path, bool& readable) {
  KnownHosts known{KnownHostsPtr(libssh2_knownhost_init(session)), {}};
  std::ifstream in(path);
  readable = static_cast<bool>(in);
  std::string line;
  while (known.entries && std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '@') {
      if (auto key = revoked_key(line); !key.empty()) known.revoked.push_back(std::move(key));
      continue;
    }
    libssh2_knownhost_readline(known.entries.get(), line.data(), line.size(), LIBSSH2_KNOWNHOST_FILE_OPENSSH);
  }
  return known;
}

}  // namespace

std::string host_key_fingerprint(LIBSSH2_SESSION* session) {
  std::size_t len = 0;
  int type = 0;
  const char* key = libssh2_session_hostkey(session, &len, &type);
  const char* hash = libssh2_hostkey_hash(session, LIBSSH2_HOSTKEY_HASH_SHA256);
  if (!key || !hash) return "(no host key)";
  std::string b64 = base64_encode(std::string_view(hash, 32));
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return std::string(key_type_name(type)) + " SHA256:" + b64;
}

HostKeyVerdict verify_host_key(LIBSSH2_SESSION* session, const std::string& host, std::uint16_t port,
                               const std::string& known_hosts_path, config::HostKeyPolicy policy) {
  std::size_t len = 0;
  int type = 0;
  const char* key = libssh2_session_hostkey(session, &len, &type);
  if (!key) return {false, "the server sent no host key"};
  if (type != LIBSSH2_HOSTKEY_TYPE_ED25519 && type != LIBSSH2_HOSTKEY_TYPE_ECDSA_256 &&
      type != LIBSSH2_HOSTKEY_TYPE_ECDSA_384 && type != LIBSSH2_HOSTKEY_TYPE_ECDSA_521) {
    return {false, std::string("host key type ") + key_type_name(type) +
                       " refused: expected ssh-ed25519 or ecdsa-sha2-nistp*"};
  }
  bool readable = false;
  KnownHosts known = load_known_hosts(session, known_hosts_path, readable);
  LIBSSH2_KNOWNHOSTS* kh = known.entries.get();
  if (!kh) return {false, "out of memory reading " + known_hosts_path};
  if (std::find(known.revoked.begin(), known.revoked.end(), std::string_view(key, len)) != known.revoked.end())
    return {false, "host key " + host_key_fingerprint(session) + " of " + known_hosts_name(host, port) +
                       " is marked @revoked in " + known_hosts_path + "; refusing"};
  const int mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | knownhost_key_bits(type);
  libssh2_knownhost* found = nullptr;
  int check = libssh2_knownhost_checkp(kh, host.c_str(), port, key, len, mask, &found);
  const std::string fingerprint = host_key_fingerprint(session);
  switch (check) {
    case LIBSSH2_KNOWNHOST_CHECK_MATCH:
      return {true, "host key " + fingerprint + " matches " + known_hosts_path};
    case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
      return {false, "host key for " + known_hosts_name(host, port) + " CHANGED: server offered " + fingerprint +
                         ", which does not match " + known_hosts_path + "; refusing"};
    case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
      break;
    default:
      return {false, "cannot check host key " + fingerprint + " against " + known_hosts_path};
  }
  // libssh2 compares entries of the offered key's type only: a host known
  // by an ed25519 key that now offers only ECDSA would count as new, and
  // accept-new would trust whoever answers. Any entry for the host, of any
  // type, must match (key type 0: compare with every entry of the host).
  const int any_type = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW;
  libssh2_knownhost* other = nullptr;
  if (libssh2_knownhost_checkp(kh, host.c_str(), port, key, len, any_type, &other) !=
      LIBSSH2_KNOWNHOST_CHECK_NOTFOUND) {
    return {false, "host key for " + known_hosts_name(host, port) + " CHANGED: server offered " + fingerprint +
                       ", but " + known_hosts_path + " knows this host only by keys of other types; refusing"};
  }
  if (policy == config::HostKeyPolicy::strict) {
    return {false, "host key " + fingerprint + " of " + known_hosts_name(host, port) + " is not in " +
                       known_hosts_path + " (host_key_policy: strict)"};
  }
  std::ofstream out(known_hosts_path, std::ios::app);
  out << known_hosts_name(host, port) << ' ' << key_type_name(type) << ' '
      << base64_encode(std::string_view(key, len)) << '\n';
  if (!out) return {false, "cannot append host key " + fingerprint + " to " + known_hosts_path};
  return {true, "new host key " + fingerprint + " added to " + known_hosts_path + " (accept-new)"};
}

}  // namespace dvpn::ssh
