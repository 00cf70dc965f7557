#include "cidna.h"
#include <unicode/uidna.h>

static const UIDNA *shared_idna(void) {
    static const UIDNA *idna = NULL;
    // uidna_openUTS46 is thread-safe to use once opened; a race here opens two and leaks one.
    const UIDNA *cur = __atomic_load_n(&idna, __ATOMIC_ACQUIRE);
    if (cur) return cur;
    UErrorCode err = U_ZERO_ERROR;
    UIDNA *opened = uidna_openUTS46(UIDNA_CHECK_BIDI | UIDNA_CHECK_CONTEXTJ | UIDNA_NONTRANSITIONAL_TO_ASCII
                                    | UIDNA_NONTRANSITIONAL_TO_UNICODE, &err);
    if (U_FAILURE(err)) return NULL;
    const UIDNA *expected = NULL;
    if (!__atomic_compare_exchange_n(&idna, &expected, opened, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        uidna_close(opened);
        return expected;
    }
    return opened;
}

long cidna_domain_to_ascii(const char *in, size_t len, char *out, size_t cap) {
    const UIDNA *idna = shared_idna();
    if (!idna || len > 0x7fffffff || cap > 0x7fffffff) return -1;
    UErrorCode err = U_ZERO_ERROR;
    UIDNAInfo info = UIDNA_INFO_INITIALIZER;
    int32_t n = uidna_nameToASCII_UTF8(idna, in, (int32_t)len, out, (int32_t)cap, &info, &err);
    if (U_FAILURE(err) || err == U_STRING_NOT_TERMINATED_WARNING && n > (int32_t)cap) return -1;
    // What the URL Standard does not check (CheckHyphens and VerifyDnsLength are false).
    uint32_t ignored = UIDNA_ERROR_EMPTY_LABEL | UIDNA_ERROR_LABEL_TOO_LONG | UIDNA_ERROR_DOMAIN_NAME_TOO_LONG
        | UIDNA_ERROR_LEADING_HYPHEN | UIDNA_ERROR_TRAILING_HYPHEN | UIDNA_ERROR_HYPHEN_3_4;
    if (info.errors & ~ignored) return -1;
    if (n < 0 || (size_t)n > cap) return -1;
    return n;
}
