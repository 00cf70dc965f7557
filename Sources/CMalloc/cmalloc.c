// The functions are inline in the header; this file makes the header a C target of its own.
#include "cmalloc.h"
