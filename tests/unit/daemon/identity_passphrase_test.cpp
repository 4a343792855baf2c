// A passphrase-protected identity must fail `dvpnd --check` (and dvpnd's
// start) with a clear reason: dvpnd has no one to ask for the passphrase,
// and libssh2 would only say "unable to extract public key" at every login.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "ssh/identity.hpp"

using namespace dvpn::ssh;

namespace {
// ssh-keygen -t ed25519 -N secret (a throwaway key made for this test).
const std::string ed25519_with_passphrase =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABBGpjfiqG\n"
    "45GoUctOZtHGLVAAAAEAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIDfWqfP23hwFUAb5\n"
    "nIib6G7Tk7h6fB04gHZonLb3JTbpAAAAkIhBLBRR5ObAndZ2tViJKW2GIWRjkJ5LixTJLD\n"
    "ezhRDN2wBgLreVrEYbbeVvB4rEI0TaDBNx/B4EOKntUPw2iewhADyF+kqtgFNHTW83V7gR\n"
    "6oQLI0PZZOqkRDY7YtAOK62vsPyoZKEX7v04corMcb2CNW2cRNpNlboyV8/p+8pa9Y/g+s\n"
    "J+734bx3DdoC3+Ng==\n"
    "-----END OPENSSH PRIVATE KEY-----\n";

// ssh-keygen -t ecdsa -m PEM -N secret
const std::string ecdsa_pem_with_passphrase =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "Proc-Type: 4,ENCRYPTED\n"
    "DEK-Info: AES-128-CBC,1A7DC4829FE041BC533AD685E418ACAA\n"
    "\n"
    "bWQbwk2cEabgpPPspEvwlSm90cXkAmHxaulL9OMUMT67/37FnLXVrsNBpfPfufPG\n"
    "oEz+ms9duLzFtpLaRBPvM5FGKPSYfTeHU0gBGGaItw76KkTKpvslL8Vpm7y3vHJ7\n"
    "vwPYEqF6DWRiIrZTLolmE3O16lxDMx7vtKwlog5H8UQ=\n"
    "-----END EC PRIVATE KEY-----\n";

// ssh-keygen -t ed25519 -N '' (cipher "none").
const std::string ed25519_plain =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACDo3LVGxOTE2N2E/CSNpmjSm8hwKMmaaPjzI1soZY5wgwAAAJC+zN3lvszd\n"
    "5QAAAAtzc2gtZWQyNTUxOQAAACDo3LVGxOTE2N2E/CSNpmjSm8hwKMmaaPjzI1soZY5wgw\n"
    "AAAEB1iuDtCFcunSPtUkSWig0hI0TfsRkkY647VpR/3wklaejctUbE5MTY3YT8JI2maNKb\n"
    "yHAoyZpo+PMjWyhljnCDAAAACnRlc3RAcGxhaW4BAgM=\n"
    "-----END OPENSSH PRIVATE KEY-----\n";

// Writes text to a fresh temporary file and returns its path.
std::string temp_key(const std::string& text) {
  std::string path = (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + std::string("/dvpn-idXXXXXX");
  int fd = ::mkstemp(path.data());
  REQUIRE(fd >= 0);
  ::close(fd);
  std::ofstream(path) << text;
  return path;
}
}  // namespace

TEST_CASE("passphrase-protected private keys are recognised") {
  CHECK(private_key_encrypted(ed25519_with_passphrase));
  CHECK(private_key_encrypted(ecdsa_pem_with_passphrase));
  CHECK(private_key_encrypted("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIH\n-----END ENCRYPTED PRIVATE KEY-----\n"));
  CHECK_FALSE(private_key_encrypted(ed25519_plain));
  CHECK_FALSE(private_key_encrypted("-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n"));
  CHECK_FALSE(private_key_encrypted("garbage"));
  // The key type stays readable: the public part is not encrypted.
  CHECK(private_key_type(ed25519_with_passphrase) == "ssh-ed25519");
}

TEST_CASE("identity_problem refuses a passphrase-protected identity and says why") {
  for (const std::string* text : {&ed25519_with_passphrase, &ecdsa_pem_with_passphrase}) {
    const std::string path = temp_key(*text);
    auto problem = identity_problem(path);
    ::unlink(path.c_str());
    REQUIRE(problem);
    CHECK(problem->find(path + ": the key is protected by a passphrase") == 0);
    CHECK(problem->find("ssh-keygen -p -N '' -f " + path) != std::string::npos);
  }
  const std::string plain = temp_key(ed25519_plain);
  CHECK_FALSE(identity_problem(plain));
  ::unlink(plain.c_str());
}
