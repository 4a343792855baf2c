#pragma once
// Checks the client key file before any connection needs it.
#include <optional>
#include <string>

namespace dvpn::ssh {

// The key type named inside a private key file ("ssh-ed25519", "ssh-rsa",
// "ecdsa-sha2-nistp256", ...), or "" if the format does not say.
std::string private_key_type(const std::string& file_text);

// True if the private key in the file is protected by a passphrase
// (openssh-key-v1 with a cipher, or encrypted PEM / PKCS#8): dvpnd has no
// one to ask for it.
bool private_key_encrypted(const std::string& file_text);

// Why `path` cannot serve as the identity, or nullopt if it can. RSA keys are
// refused with a clear reason: libssh2 1.10 signs only with SHA-1, which
// OpenSSH >= 8.8 rejects.
std::optional<std::string> identity_problem(const std::string& path);

}  // namespace dvpn::ssh
