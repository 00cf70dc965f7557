#ifndef TAGWATCH_CPSL_SHIM_H
#define TAGWATCH_CPSL_SHIM_H
#include <libpsl.h>
#endif
