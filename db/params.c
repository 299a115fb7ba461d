/* params.c: statement parameters in libpq's text form, so that values are
 * never spliced into SQL text. */
#include "db/db_private.h"

#include <stdlib.h>

TernDbParams *
tern_db_params_new(void)
{
    TernDbParams *p = g_new0(TernDbParams, 1);
    p->v = g_ptr_array_new_with_free_func(g_free);
    return p;
}

void
tern_db_params_free(TernDbParams *p)
{
    if (!p)
        return;
    g_ptr_array_unref(p->v);
    g_free(p);
}

void
tern_db_params_text(TernDbParams *p, const char *s)
{
    g_ptr_array_add(p->v, g_strdup(s));
}

void
tern_db_params_int(TernDbParams *p, gint64 v)
{
    g_ptr_array_add(p->v, g_strdup_printf("%" G_GINT64_FORMAT, v));
}

void
tern_db_params_float(TernDbParams *p, double v)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_ptr_array_add(p->v, g_strdup(g_ascii_dtostr(buf, sizeof buf, v)));
}

void
tern_db_params_bool(TernDbParams *p, gboolean v)
{
    g_ptr_array_add(p->v, g_strdup(v ? "true" : "false"));
}

void
tern_db_params_time(TernDbParams *p, gint64 us)
{
    g_ptr_array_add(p->v, us ? g_strdup_printf("%" G_GINT64_FORMAT, us) : NULL);
}

void
tern_db_params_strv(TernDbParams *p, char **strv)
{
    g_ptr_array_add(p->v, tern_db_strv_to_json((const char *const *) strv));
}

void
tern_db_set_not_found(GError **error, const char *what, const char *key)
{
    g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_NOT_FOUND, "no %s '%s' in the database",
                what, key ? key : "(null)");
}

gint64
tern_db_affected(const PGresult *r)
{
    const char *n = PQcmdTuples((PGresult *) r);
    return n && *n ? g_ascii_strtoll(n, NULL, 10) : 0;
}
