#ifndef TAGWATCH_CCHARSET_H
#define TAGWATCH_CCHARSET_H
#include <stddef.h>

/// Decodes `len` bytes in `charset` to UTF-8 through ICU, as a browser's decoder does: a
/// malformed or unmapped sequence becomes a substitute character and decoding goes on (libxml2's
/// iconv path stops the document at the first one, so a byte could hide the rest of a page).
/// Returns a buffer the caller releases with `ccharset_free` and sets `*outlen`, or returns NULL
/// when ICU has no converter of that name (or memory ran out).
/// ICU's types stay out of this header: Foundation carries its own ICU.
char *ccharset_to_utf8(const char *charset, const char *in, size_t len, size_t *outlen);
void ccharset_free(char *p);
#endif
