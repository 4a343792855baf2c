/* ctr_keystream_shim.c — EXPERIMENT ONLY (LD_PRELOAD), never part of dvpnd.
 *
 * libssh2 1.10 encrypts and decrypts one 16-byte block per EVP_Cipher call
 * (transport.c: `while(len >= blocksize) crypt(...)`); each call pays the EVP
 * dispatch and the AES-NI routine's set-up for a single block. This shim
 * interposes EVP_Cipher: for a context in CTR mode it asks the real
 * EVP_Cipher for 4 KiB of keystream at once (encrypting zeros advances the
 * counter exactly as 256 single-block calls would) and serves the 16-byte
 * calls by XOR from that buffer. Output is byte-for-byte what the real
 * function gives, as long as every call on that context goes through here
 * (true for libssh2, which never resets or re-keys a context: it frees it and
 * makes a new one on rekey).
 *
 *   cc -O2 -shared -fPIC -o ctr_keystream_shim.so ctr_keystream_shim.c -ldl -lcrypto
 *   DVPND_WRAP="env LD_PRELOAD=$PWD/ctr_keystream_shim.so" bench/run ...
 *
 * It measures what doing the cipher in bulk would buy; the production fix
 * belongs in dvpnd (or a patched libssh2), see bench/RESULTS.md.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KS_BYTES 4096

struct keystream {
  unsigned char buf[KS_BYTES];
  unsigned pos, len;
};

typedef int (*cipher_fn)(EVP_CIPHER_CTX *, unsigned char *, const unsigned char *, unsigned int);
typedef void (*free_fn)(EVP_CIPHER_CTX *);

static cipher_fn real_cipher;
static free_fn real_free;
static const unsigned char zeros[KS_BYTES];

__attribute__((constructor)) static void shim_init(void) {
  real_cipher = (cipher_fn)dlsym(RTLD_NEXT, "EVP_Cipher");
  real_free = (free_fn)dlsym(RTLD_NEXT, "EVP_CIPHER_CTX_free");
}

int EVP_Cipher(EVP_CIPHER_CTX *c, unsigned char *out, const unsigned char *in, unsigned int inl) {
  struct keystream *k = (struct keystream *)EVP_CIPHER_CTX_get_app_data(c);
  if (!k) {
    if (EVP_CIPHER_CTX_get_mode(c) != EVP_CIPH_CTR_MODE) return real_cipher(c, out, in, inl);
    k = (struct keystream *)calloc(1, sizeof *k);
    if (!k) return real_cipher(c, out, in, inl);
    EVP_CIPHER_CTX_set_app_data(c, k);
  }
  if (inl == 16 && k->len - k->pos >= 16) {  /* libssh2's case: one block, two 64-bit XORs */
    uint64_t a[2], b[2];
    memcpy(a, in, 16);
    memcpy(b, k->buf + k->pos, 16);
    a[0] ^= b[0];
    a[1] ^= b[1];
    memcpy(out, a, 16);
    k->pos += 16;
    return 1;
  }
  unsigned done = 0;
  while (done < inl) {
    if (k->pos == k->len) {
      if (real_cipher(c, k->buf, zeros, KS_BYTES) <= 0) return -1;
      k->pos = 0;
      k->len = KS_BYTES;
    }
    unsigned n = inl - done;
    if (n > k->len - k->pos) n = k->len - k->pos;
    const unsigned char *ks = k->buf + k->pos;
    for (unsigned i = 0; i < n; ++i) out[done + i] = in[done + i] ^ ks[i];
    k->pos += n;
    done += n;
  }
  return 1;
}

void EVP_CIPHER_CTX_free(EVP_CIPHER_CTX *c) {
  if (c) {
    struct keystream *k = (struct keystream *)EVP_CIPHER_CTX_get_app_data(c);
    if (k) {
      EVP_CIPHER_CTX_set_app_data(c, NULL);
      OPENSSL_cleanse(k, sizeof *k);
      free(k);
    }
  }
  real_free(c);
}
