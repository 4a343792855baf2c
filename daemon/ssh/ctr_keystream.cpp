// Batched AES-CTR keystream for libssh2 1.10.
//
// libssh2 1.10 encrypts and decrypts its transport one 16-byte block per
// EVP_Cipher call (transport.c: `while(len >= blocksize) crypt(...)`). With
// OpenSSL 3 each call pays the provider dispatch and the AES-NI set-up for a
// single block: 42% of dvpnd's CPU in a bulk transfer (bench/RESULTS.md).
//
// dvpnd therefore defines EVP_Cipher itself and exports it (meson link_args),
// so libssh2's calls land here. For a context in CTR mode it asks the real
// EVP_Cipher for 4 KiB of keystream at once (encrypting zeros advances the
// counter exactly as 256 one-block calls would) and serves the calls by XOR
// from that buffer. Every other cipher mode goes straight to OpenSSL. The
// output is byte for byte what OpenSSL gives, provided every operation on the
// context goes through EVP_Cipher — true for libssh2, which never re-inits a
// context: it frees it and makes a new one on re-key (openssl.c,
// _libssh2_cipher_init/_dtor). Contexts are used by one session at a time
// (its strand), so the per-context state needs no lock.
// Measured on the bench machine, 16-byte calls: 2.80 s/GB through OpenSSL
// 3.0, 1.26 s/GB here asking libcrypto for the app data on each call, 1.00
// s/GB with the per-thread cache below.
#include "ssh/ctr_keystream.hpp"

#include <dlfcn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <iterator>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

namespace {

constexpr unsigned keystream_bytes = 4096;
// A context flag bit OpenSSL does not use marks the contexts whose app data is
// our Keystream; app data set by anyone else is never read, and such a
// context is passed through untouched.
constexpr int keystream_flag = 0x40000000;

struct Keystream {
  unsigned pos = 0;  // next unused byte of buf
  unsigned len = 0;  // valid bytes in buf
  bool custom = false;  // EVP_CIPH_FLAG_CUSTOM_CIPHER: results are byte counts / -1
  alignas(16) unsigned char buf[keystream_bytes];
};

using CipherFn = int (*)(EVP_CIPHER_CTX*, unsigned char*, const unsigned char*, unsigned int);
using FreeFn = void (*)(EVP_CIPHER_CTX*);

struct Real {
  CipherFn cipher = reinterpret_cast<CipherFn>(dlsym(RTLD_NEXT, "EVP_Cipher"));
  FreeFn free = reinterpret_cast<FreeFn>(dlsym(RTLD_NEXT, "EVP_CIPHER_CTX_free"));
};

const Real& real() {
  static const Real functions;  // resolved once, thread-safe
  return functions;
}

const unsigned char zeros[keystream_bytes] = {};

Keystream* ours(EVP_CIPHER_CTX* ctx) {
  if (!EVP_CIPHER_CTX_test_flags(ctx, keystream_flag)) return nullptr;
  return static_cast<Keystream*>(EVP_CIPHER_CTX_get_app_data(ctx));
}

// Two calls into libcrypto per 16-byte block would cost as much as the XOR
// saves, so each thread remembers the last few contexts it served (a session
// has two: one per direction). A free bumps `frees`, which voids every
// thread's memory at once: a freed context's address may come back as a new
// context. Relaxed is enough, because a context reaching another thread after
// a free is ordered after it (allocator, then the session's strand).
std::atomic<std::uint64_t> frees{0};

struct CacheSlot {
  const EVP_CIPHER_CTX* ctx = nullptr;
  Keystream* keystream = nullptr;
};

struct ThreadCache {
  std::uint64_t frees_seen = 0;
  unsigned next = 0;
  CacheSlot slots[4];
};

thread_local ThreadCache cache;

Keystream* lookup(EVP_CIPHER_CTX* ctx) {
  const std::uint64_t now = frees.load(std::memory_order_relaxed);
  if (cache.frees_seen != now) {
    cache = ThreadCache{};
    cache.frees_seen = now;
  }
  for (const CacheSlot& slot : cache.slots)
    if (slot.ctx == ctx) return slot.keystream;
  Keystream* k = ours(ctx);
  if (k) cache.slots[cache.next++ % std::size(cache.slots)] = {ctx, k};
  return k;
}

void xor_bytes(unsigned char* out, const unsigned char* in, const unsigned char* ks, unsigned n) {
  unsigned i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t a, b;
    std::memcpy(&a, in + i, 8);
    std::memcpy(&b, ks + i, 8);
    a ^= b;
    std::memcpy(out + i, &a, 8);
  }
  for (; i < n; ++i) out[i] = in[i] ^ ks[i];
}

// The real context's stream position is always "bytes handed out so far plus
// what is buffered", so buffered bytes are used first and a long remainder
// may go to OpenSSL directly. Results follow EVP_Cipher's own convention.
int crypt_ctr(EVP_CIPHER_CTX* ctx, Keystream& k, unsigned char* out, const unsigned char* in, unsigned inl) {
  const int failed = k.custom ? -1 : 0;
  unsigned done = 0;
  while (done < inl) {
    if (k.pos == k.len) {
      const unsigned rest = inl - done;
      if (rest >= keystream_bytes) {
        if (real().cipher(ctx, out + done, in + done, rest) <= 0) return failed;
        break;
      }
      if (real().cipher(ctx, k.buf, zeros, keystream_bytes) <= 0) return failed;
      k.pos = 0;
      k.len = keystream_bytes;
    }
    const unsigned n = std::min(inl - done, k.len - k.pos);
    xor_bytes(out + done, in + done, k.buf + k.pos, n);
    k.pos += n;
    done += n;
  }
  return k.custom ? static_cast<int>(inl) : 1;
}

}  // namespace

extern "C" {

int EVP_Cipher(EVP_CIPHER_CTX* ctx, unsigned char* out, const unsigned char* in, unsigned int inl) {
  Keystream* k = lookup(ctx);
  if (k && inl == 16 && k->len - k->pos >= 16) {  // libssh2's case
    xor_bytes(out, in, k->buf + k->pos, 16);
    k->pos += 16;
    return k->custom ? 16 : 1;
  }
  if (!k) {
    if (EVP_CIPHER_CTX_get_mode(ctx) != EVP_CIPH_CTR_MODE || EVP_CIPHER_CTX_get_app_data(ctx))
      return real().cipher(ctx, out, in, inl);
    k = new (std::nothrow) Keystream;
    if (!k) return real().cipher(ctx, out, in, inl);
    k->custom = EVP_CIPHER_get_flags(EVP_CIPHER_CTX_get0_cipher(ctx)) & EVP_CIPH_FLAG_CUSTOM_CIPHER;
    EVP_CIPHER_CTX_set_app_data(ctx, k);
    EVP_CIPHER_CTX_set_flags(ctx, keystream_flag);
  }
  return crypt_ctr(ctx, *k, out, in, inl);
}

void EVP_CIPHER_CTX_free(EVP_CIPHER_CTX* ctx) {
  if (!ctx) return;
  if (Keystream* k = ours(ctx)) {
    frees.fetch_add(1, std::memory_order_relaxed);
    EVP_CIPHER_CTX_set_app_data(ctx, nullptr);
    EVP_CIPHER_CTX_clear_flags(ctx, keystream_flag);
    OPENSSL_cleanse(k, sizeof *k);  // keystream is key material
    delete k;
  }
  real().free(ctx);
}

}  // extern "C"

namespace dvpn::ssh {

bool ctr_keystream_active() {
  return dlsym(RTLD_DEFAULT, "EVP_Cipher") == reinterpret_cast<void*>(&EVP_Cipher);
}

}  // namespace dvpn::ssh
