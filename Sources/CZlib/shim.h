#ifndef TAGWATCH_CZLIB_SHIM_H
#define TAGWATCH_CZLIB_SHIM_H
#include <zlib.h>
#endif
