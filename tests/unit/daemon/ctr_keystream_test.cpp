// dvpnd's batching EVP_Cipher must give byte for byte what OpenSSL gives for
// any sequence of call lengths, and leave other cipher modes alone. The
// reference runs through EVP_EncryptUpdate, which the batching does not touch.
#include <doctest/doctest.h>
#include <openssl/evp.h>

#include <memory>
#include <random>
#include <vector>

#include "ssh/ctr_keystream.hpp"

namespace {

using Ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

Ctx make(const EVP_CIPHER* cipher, int encrypt) {
  static const unsigned char key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
  static const unsigned char iv[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0};  // counter wraps soon
  Ctx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  REQUIRE(EVP_CipherInit(ctx.get(), cipher, key, iv, encrypt) == 1);
  return ctx;
}

std::vector<unsigned char> reference(const EVP_CIPHER* cipher, const std::vector<unsigned char>& in) {
  auto ctx = make(cipher, 1);
  std::vector<unsigned char> out(in.size() + 32);
  int len = 0;
  REQUIRE(EVP_EncryptUpdate(ctx.get(), out.data(), &len, in.data(), static_cast<int>(in.size())) == 1);
  out.resize(static_cast<size_t>(len));
  return out;
}

std::vector<unsigned char> random_bytes(size_t n, std::mt19937& rng) {
  std::vector<unsigned char> v(n);
  for (auto& b : v) b = static_cast<unsigned char>(rng());
  return v;
}

// Runs `in` through EVP_Cipher in pieces of the lengths `pieces` yields.
template <class Pieces>
std::vector<unsigned char> batched(const EVP_CIPHER* cipher, int encrypt, const std::vector<unsigned char>& in,
                                   Pieces pieces) {
  auto ctx = make(cipher, encrypt);
  std::vector<unsigned char> out(in.size());
  size_t at = 0;
  while (at < in.size()) {
    const size_t n = std::min(pieces(), in.size() - at);
    REQUIRE(EVP_Cipher(ctx.get(), out.data() + at, in.data() + at, static_cast<unsigned>(n)) != -1);
    at += n;
  }
  return out;
}

}  // namespace

TEST_CASE("ctr keystream: 16-byte calls, as libssh2 1.10 makes them, match OpenSSL") {
  std::mt19937 rng(7);
  for (const EVP_CIPHER* cipher : {EVP_aes_128_ctr(), EVP_aes_192_ctr(), EVP_aes_256_ctr()}) {
    const auto plain = random_bytes(3 * 4096 + 512, rng);
    const auto expected = reference(cipher, plain);
    CHECK(batched(cipher, 1, plain, [] { return size_t{16}; }) == expected);
    // Decryption is the same keystream: it must give the plaintext back.
    CHECK(batched(cipher, 0, expected, [] { return size_t{16}; }) == plain);
  }
}

TEST_CASE("ctr keystream: any mix of call lengths, long ones included, matches OpenSSL") {
  std::mt19937 rng(11);
  const auto plain = random_bytes(200 * 1024, rng);
  const auto expected = reference(EVP_aes_128_ctr(), plain);
  for (size_t most : {size_t{1}, size_t{17}, size_t{4095}, size_t{4096}, size_t{9000}, size_t{70000}}) {
    CAPTURE(most);
    CHECK(batched(EVP_aes_128_ctr(), 1, plain, [&] { return size_t{1} + rng() % most; }) == expected);
  }
}

TEST_CASE("ctr keystream: a CTR context gets its keystream buffer on first use") {
  auto ctx = make(EVP_aes_128_ctr(), 1);
  unsigned char block[16] = {};
  REQUIRE(EVP_Cipher(ctx.get(), block, block, 16) != -1);
  CHECK(EVP_CIPHER_CTX_get_app_data(ctx.get()) != nullptr);  // freed by the interposed EVP_CIPHER_CTX_free
}

TEST_CASE("ctr keystream: other modes go to OpenSSL untouched") {
  std::mt19937 rng(13);
  const auto plain = random_bytes(64 * 16, rng);
  CHECK(batched(EVP_aes_128_cbc(), 1, plain, [] { return size_t{16}; }) == reference(EVP_aes_128_cbc(), plain));
}

TEST_CASE("ctr keystream: a context whose app data is someone else's is passed through") {
  std::mt19937 rng(17);
  const auto plain = random_bytes(1024, rng);
  int foreign = 42;
  auto ctx = make(EVP_aes_128_ctr(), 1);
  EVP_CIPHER_CTX_set_app_data(ctx.get(), &foreign);
  std::vector<unsigned char> out(plain.size());
  for (size_t at = 0; at < plain.size(); at += 16)
    REQUIRE(EVP_Cipher(ctx.get(), out.data() + at, plain.data() + at, 16) != -1);
  CHECK(out == reference(EVP_aes_128_ctr(), plain));
  CHECK(EVP_CIPHER_CTX_get_app_data(ctx.get()) == &foreign);
}
