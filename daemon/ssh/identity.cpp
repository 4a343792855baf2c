#include "identity.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base64.hpp"

namespace dvpn::ssh {
namespace {

constexpr std::string_view openssh_begin = "-----BEGIN OPENSSH PRIVATE KEY-----";
constexpr std::string_view openssh_end = "-----END OPENSSH PRIVATE KEY-----";
constexpr std::string_view magic{"openssh-key-v1\0", 15};

// Reads one SSH wire "string" (u32 length + bytes) at `pos`.
bool read_string(std::string_view blob, std::size_t& pos, std::string_view& out) {
  if (pos + 4 > blob.size()) return false;
  std::uint32_t len = (std::uint8_t(blob[pos]) << 24) | (std::uint8_t(blob[pos + 1]) << 16) |
                      (std::uint8_t(blob[pos + 2]) << 8) | std::uint8_t(blob[pos + 3]);
  pos += 4;
  if (len > blob.size() - pos) return false;
  out = blob.substr(pos, len);
  pos += len;
  return true;
}

// openssh-key-v1: magic, cipher, kdf, kdf options, key count, then the
// public key blob, whose first string is the key type (unencrypted even
// when the private part has a passphrase).
std::string openssh_key_type(std::string_view blob) {
  if (blob.substr(0, magic.size()) != magic) return "";
  std::size_t pos = magic.size();
  std::string_view field;
  for (int i = 0; i < 3; ++i)
    if (!read_string(blob, pos, field)) return "";
  pos += 4;  // number of keys
  std::string_view public_blob;
  if (!read_string(blob, pos, public_blob)) return "";
  std::size_t inner = 0;
  std::string_view type;
  if (!read_string(public_blob, inner, type)) return "";
  return std::string(type);
}

// The cipher of an openssh-key-v1 blob ("none" when not encrypted).
std::string openssh_cipher(std::string_view blob) {
  if (blob.substr(0, magic.size()) != magic) return "";
  std::size_t pos = magic.size();
  std::string_view cipher;
  if (!read_string(blob, pos, cipher)) return "";
  return std::string(cipher);
}

}  // namespace

bool private_key_encrypted(const std::string& text) {
  if (text.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string::npos) return true;
  if (text.find("Proc-Type: 4,ENCRYPTED") != std::string::npos) return true;
  auto begin = text.find(openssh_begin);
  auto end = text.find(openssh_end);
  if (begin == std::string::npos || end == std::string::npos || end < begin) return false;
  begin += openssh_begin.size();
  std::string cipher = openssh_cipher(base64_decode(std::string_view(text).substr(begin, end - begin)));
  return !cipher.empty() && cipher != "none";
}

std::string private_key_type(const std::string& text) {
  if (text.find("-----BEGIN RSA PRIVATE KEY-----") != std::string::npos) return "ssh-rsa";
  if (text.find("-----BEGIN DSA PRIVATE KEY-----") != std::string::npos) return "ssh-dss";
  if (text.find("-----BEGIN EC PRIVATE KEY-----") != std::string::npos) return "ecdsa";
  auto begin = text.find(openssh_begin);
  auto end = text.find(openssh_end);
  if (begin == std::string::npos || end == std::string::npos || end < begin) return "";
  begin += openssh_begin.size();
  return openssh_key_type(base64_decode(std::string_view(text).substr(begin, end - begin)));
}

std::optional<std::string> identity_problem(const std::string& path) {
  std::ifstream in(path);
  if (!in) return path + ": cannot read: " + std::strerror(errno);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string type = private_key_type(buffer.str());
  if (type == "ssh-rsa") {
    return path + ": RSA keys cannot be used: libssh2 1.10 signs only with SHA-1, which OpenSSH >= 8.8 "
                  "refuses; expected an ed25519 or ECDSA key (ssh-keygen -t ed25519)";
  }
  if (type == "ssh-dss") return path + ": DSA keys are refused by OpenSSH; expected an ed25519 or ECDSA key";
  if (private_key_encrypted(buffer.str())) {
    return path + ": the key is protected by a passphrase, which dvpnd cannot ask for; use a key without one "
                  "(ssh-keygen -p -N '' -f " + path + " removes it; keep the file readable only by dvpnd)";
  }
  if (type.empty()) return path + ": not an OpenSSH or PEM private key; expected an ed25519 or ECDSA key";
  return std::nullopt;
}

}  // namespace dvpn::ssh
