/* sched_error.h: the scheduler's error domain (TERN_SCHED_ERROR). */
#ifndef TERN_SCHED_ERROR_H
#define TERN_SCHED_ERROR_H

#include <glib.h>

#define TERN_SCHED_ERROR (tern_sched_error_quark())
GQuark tern_sched_error_quark(void);
typedef enum {
    TERN_SCHED_ERROR_INVALID,     /* a request tern cannot read (bad spec, unknown model) */
    TERN_SCHED_ERROR_NO_VALID_HOST, /* no host passes the filters or every claim failed */
    TERN_SCHED_ERROR_CONFIG,      /* an unknown filter name or a bad option */
    TERN_SCHED_ERROR_CLAIM,       /* the database refused a claim for another reason */
} TernSchedErrorCode;

#endif
