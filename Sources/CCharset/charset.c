#include "ccharset.h"
#include <stdlib.h>
#include <unicode/ucnv.h>

char *ccharset_to_utf8(const char *charset, const char *in, size_t len, size_t *outlen) {
    UErrorCode err = U_ZERO_ERROR;
    UConverter *src = ucnv_open(charset, &err);
    if (U_FAILURE(err) || src == NULL) return NULL;
    err = U_ZERO_ERROR;
    UConverter *dst = ucnv_open("UTF-8", &err);
    if (U_FAILURE(err) || dst == NULL) { ucnv_close(src); return NULL; }
    // One input byte gives at most one BMP character (3 UTF-8 bytes) or a substitute (3 bytes);
    // four give at most one supplementary character (4 bytes). Grown and redone if ever short.
    size_t cap = len * 3 + 16;
    char *out = NULL;
    for (int attempt = 0; attempt < 4; attempt++) {
        out = malloc(cap);
        if (out == NULL) break;
        char *target = out;
        const char *source = in;
        err = U_ZERO_ERROR;
        ucnv_reset(src);
        ucnv_reset(dst);
        // Substitution (ICU's default callbacks) on both sides: decoding never stops early.
        ucnv_convertEx(dst, src, &target, out + cap, &source, in + len,
                       NULL, NULL, NULL, NULL, 1, 1, &err);
        if (err == U_BUFFER_OVERFLOW_ERROR) { free(out); out = NULL; cap *= 2; continue; }
        if (U_FAILURE(err)) { free(out); out = NULL; break; }
        *outlen = (size_t)(target - out);
        break;
    }
    ucnv_close(src);
    ucnv_close(dst);
    return out;
}

void ccharset_free(char *p) { free(p); }
