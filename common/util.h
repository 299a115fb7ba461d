/* util.h: small helpers every layer uses. */
#ifndef TERN_UTIL_H
#define TERN_UTIL_H

#include <glib.h>
#include "common/config.h"

/* [DEFAULT] host, or the machine's hostname. */
const char *tern_conf_host(const TernConfig *conf);
/* A new random UUID (lower-case canonical form). */
char *tern_uuid_new(void);
/* A new "req-<uuid>" request id. */
char *tern_request_id_new(void);
/* Monotonic clock in seconds. */
double tern_now(void);

#endif
