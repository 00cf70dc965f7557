#ifndef TAGWATCH_CIDNA_H
#define TAGWATCH_CIDNA_H
#include <stddef.h>

/// UTS #46 ToASCII of a UTF-8 domain as the WHATWG URL Standard's "domain to ASCII" asks
/// (non-transitional, CheckBidi and CheckJoiners on, CheckHyphens and VerifyDnsLength off,
/// no STD3 rules), through ICU as browsers do. Writes at most `cap` bytes to `out` and
/// returns the length, or -1 when the domain is invalid or does not fit.
/// ICU's types stay out of this header: Foundation carries its own ICU, and both in one
/// Swift module do not compile.
long cidna_domain_to_ascii(const char *in, size_t len, char *out, size_t cap);
#endif
