#ifndef TAGWATCH_CMALLOC_H
#define TAGWATCH_CMALLOC_H
#include <malloc.h>
#include <stddef.h>

/// glibc's malloc tuning, which Swift's Glibc module does not export (<malloc.h> is not in it).
/// Hands free heap pages back to the system; returns 1 when memory was released.
static inline int cmalloc_trim(size_t pad) { return malloc_trim(pad); }
/// Caps the number of malloc arenas; returns 1 on success.
static inline int cmalloc_arena_max(int arenas) { return mallopt(M_ARENA_MAX, arenas); }
#endif
