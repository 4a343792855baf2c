#include <doctest/doctest.h>

#include "ssh/base64.hpp"
#include "ssh/identity.hpp"

using namespace dvpn::ssh;

TEST_CASE("base64 round trip and padding") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_decode("Zm9v\nYmFy") == "foobar");
  CHECK(base64_decode("Zg==") == "f");
  CHECK(base64_decode("Z!==").empty());
}

namespace {
// Builds an openssh-key-v1 file whose public key is of `type`.
std::string openssh_key(const std::string& type) {
  auto str = [](const std::string& s) {
    std::string out;
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((s.size() >> shift) & 0xff);
    return out + s;
  };
  std::string blob = std::string("openssh-key-v1\0", 15) + str("none") + str("none") + str("") +
                     std::string("\0\0\0\1", 4) + str(str(type) + str("keybytes"));
  return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + base64_encode(blob) + "\n-----END OPENSSH PRIVATE KEY-----\n";
}
}  // namespace

TEST_CASE("private key types are read from the file") {
  CHECK(private_key_type(openssh_key("ssh-ed25519")) == "ssh-ed25519");
  CHECK(private_key_type(openssh_key("ssh-rsa")) == "ssh-rsa");
  CHECK(private_key_type(openssh_key("ecdsa-sha2-nistp256")) == "ecdsa-sha2-nistp256");
  CHECK(private_key_type("-----BEGIN RSA PRIVATE KEY-----\nxx\n-----END RSA PRIVATE KEY-----\n") == "ssh-rsa");
  CHECK(private_key_type("-----BEGIN EC PRIVATE KEY-----\n") == "ecdsa");
  CHECK(private_key_type("garbage").empty());
}

TEST_CASE("identity_problem refuses RSA with the reason and a missing file by name") {
  auto missing = identity_problem("/nonexistent/id_ed25519");
  REQUIRE(missing);
  CHECK(missing->find("/nonexistent/id_ed25519: cannot read") == 0);
}
