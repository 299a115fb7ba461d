/* db_fixture.c: create and drop one private database per test program. */
#include "tests/integration/db_fixture.h"

#include <libpq-fe.h>
#include <string.h>
#include <unistd.h>

gboolean
tern_test_db_skip(void)
{
    const char *url = g_getenv("TERN_TEST_DB_URL");
    if (url && *url)
        return FALSE;
    g_test_skip("TERN_TEST_DB_URL is not set (run scripts/services start postgresql)");
    return TRUE;
}

char *
tern_test_db_url_with_name(const char *base_url, const char *dbname)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GUri) uri = g_uri_parse(base_url, G_URI_FLAGS_ENCODED, &error);
    g_assert_no_error(error);
    g_autofree char *path = g_strdup_printf("/%s", dbname);
    g_autoptr(GUri) out = g_uri_build(G_URI_FLAGS_ENCODED, g_uri_get_scheme(uri),
                                      g_uri_get_userinfo(uri), g_uri_get_host(uri),
                                      g_uri_get_port(uri), path, g_uri_get_query(uri), NULL);
    return g_uri_to_string(out);
}

static char *
dbname_of(const char *url)
{
    g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_ENCODED, NULL);
    g_assert_nonnull(uri);
    return g_strdup(g_uri_get_path(uri) + 1);
}

/* Run "VERB <quoted name> TAIL" as the superuser. */
static void
admin(const char *base_url, const char *verb, const char *name, const char *tail)
{
    PGconn *c = PQconnectdb(base_url);
    g_assert_cmpint(PQstatus(c), ==, CONNECTION_OK);
    char *ident = PQescapeIdentifier(c, name, strlen(name));
    g_autofree char *sql = g_strconcat(verb, " ", ident, " ", tail, NULL);
    PQfreemem(ident);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        g_error("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
}

char *
tern_test_db_create(const char *base_url)
{
    g_autofree char *name = g_strdup_printf("tern_test_%d_%08x", (int) getpid(),
                                            g_random_int());
    admin(base_url, "CREATE DATABASE", name, "");
    return tern_test_db_url_with_name(base_url, name);
}

void
tern_test_db_drop(const char *base_url, const char *url)
{
    g_autofree char *name = dbname_of(url);
    admin(base_url, "DROP DATABASE IF EXISTS", name, "WITH (FORCE)");
}
