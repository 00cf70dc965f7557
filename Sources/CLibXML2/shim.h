// libxml2's headers pull ICU's ucnv.h, whose UErrorCode clashes with Foundation's own ICU
// module; we never touch the ICU fields, so drop them before the parser headers.
#ifndef TAGWATCH_CLIBXML2_SHIM_H
#define TAGWATCH_CLIBXML2_SHIM_H
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

// xmlFree is a global function pointer, which Swift 6 rejects as not concurrency-safe.
static inline void cxml_free(void *p) { xmlFree(p); }
static inline void cxml_silence(void) { xmlSetGenericErrorFunc(NULL, NULL); xmlSetStructuredErrorFunc(NULL, NULL); }
#endif
