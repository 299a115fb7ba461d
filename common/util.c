/* util.c: small helpers every layer uses. */
#include "util.h"

const char *
tern_conf_host(const TernConfig *conf)
{
    const char *h = tern_config_get_string(conf, "DEFAULT", "host");
    return (h && *h) ? h : g_get_host_name();
}

char *
tern_uuid_new(void)
{
    return g_uuid_string_random();
}

char *
tern_request_id_new(void)
{
    g_autofree char *u = g_uuid_string_random();
    return g_strdup_printf("req-%s", u);
}

double
tern_now(void)
{
    return g_get_monotonic_time() / 1e6;
}
