#ifndef TAGWATCH_CSQLITE_SHIM_H
#define TAGWATCH_CSQLITE_SHIM_H
#include <sqlite3.h>
// SQLITE_TRANSIENT is a cast macro Swift cannot import.
static inline void (*csqlite_transient(void))(void *) { return SQLITE_TRANSIENT; }
// Turns off SQLite's memory statistics, process-wide, before the first connection opens: with them
// on, every allocation SQLite makes takes a global mutex (nothing here reads the statistics).
// Returns SQLITE_MISUSE, harmlessly, once SQLite is initialised.
static inline int csqlite_disable_memstatus(void) { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }
#endif
