#pragma once
// Batched AES-CTR keystream under libssh2 1.10's one-block-per-call
// EVP_Cipher loop (see ctr_keystream.cpp for why and how).

namespace dvpn::ssh {

// True when libssh2's EVP_Cipher calls reach dvpnd's batching EVP_Cipher,
// i.e. the executable exports it ahead of libcrypto's.
bool ctr_keystream_active();

}  // namespace dvpn::ssh
