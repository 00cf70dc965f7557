#ifndef TAGWATCH_CCRYPTO_SHIM_H
#define TAGWATCH_CCRYPTO_SHIM_H
// The system's OpenSSL libcrypto, for script hashes (SHA-256, SHA-384, SHA-512): one typed
// entry point, so Swift never touches EVP's opaque types.
#include <stddef.h>
#include <openssl/evp.h>

/// Digests `len` bytes at `data` with the named algorithm ("SHA256", "SHA384", "SHA512") into
/// `out` (at least EVP_MAX_MD_SIZE bytes). Returns the digest length, or 0 on failure.
static inline unsigned int ccrypto_digest(const char *name, const void *data, size_t len, unsigned char *out) {
    const EVP_MD *md = EVP_get_digestbyname(name);
    if (md == NULL) return 0;
    unsigned int n = 0;
    if (EVP_Digest(data, len, out, &n, md, NULL) != 1) return 0;
    return n;
}

#endif
