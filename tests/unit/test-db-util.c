/* test-db-util.c: the parts of db/ that need no server: string lists as
 * JSON parameters and back (through a result libpq builds client-side),
 * capacity with reserved amounts and ratios, service liveness, and the
 * SQLSTATE to error-code mapping. */
#include <glib.h>
#include <string.h>

#include "db/db.h"
#include "db/db_private.h"

static void
test_strv_roundtrip(void)
{
    const char *in[] = { "a\"b,{c}\\d e", "", "NULL", "x'); DROP TABLE t; --", "\xc3\xa9t\xc3\xa9", NULL };
    g_autofree char *json = tern_db_strv_to_json(in);
    g_assert_cmpstr(json, ==, "[\"a\\\"b,{c}\\\\d e\",\"\",\"NULL\",\"x'); DROP TABLE t; --\",\"\xc3\xa9t\xc3\xa9\"]");
    g_autofree char *empty = tern_db_strv_to_json(NULL);
    g_assert_cmpstr(empty, ==, "[]");

    /* Read back as a query selecting to_json(text[]) would return it. */
    PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    PGresAttDesc att = { .name = (char *) "f", .format = 0, .typlen = -1, .atttypmod = -1 };
    g_assert_true(PQsetResultAttrs(r, 1, &att));
    g_assert_true(PQsetvalue(r, 0, 0, json, (int) strlen(json)));
    g_assert_true(PQsetvalue(r, 1, 0, NULL, -1));
    g_auto(GStrv) out = tern_db_get_strv(r, 0, 0);
    g_assert_cmpstrv(out, in);
    g_auto(GStrv) none = tern_db_get_strv(r, 1, 0);
    g_assert_cmpuint(g_strv_length(none), ==, 0);
    g_assert_null(tern_db_get_text(r, 1, 0));
    g_assert_cmpint(tern_db_get_int(r, 1, 0), ==, 0);
    PQclear(r);
}

static void
test_capacity(void)
{
    g_autoptr(TernDbComputeNode) n = tern_db_compute_node_new();
    g_assert_cmpfloat(n->ram_allocation_ratio, ==, 1.0);
    n->vcpus = 6;
    n->reserved_vcpus = 1;
    n->cpu_allocation_ratio = 1.5;       /* (6 - 1) * 1.5 = 7.5 -> 7 */
    n->memory_mb = 1000;
    n->reserved_memory_mb = 2000;        /* more reserved than there is -> 0 */
    n->local_gb = 10;
    n->disk_allocation_ratio = 0.5;
    g_assert_cmpint(tern_db_compute_node_vcpus_capacity(n), ==, 7);
    g_assert_cmpint(tern_db_compute_node_memory_capacity(n), ==, 0);
    g_assert_cmpint(tern_db_compute_node_disk_capacity(n), ==, 5);
}

static void
test_service_up(void)
{
    TernDbService s = { .last_seen_up = 1000 * G_USEC_PER_SEC };
    g_assert_true(tern_db_service_is_up(&s, 1060 * G_USEC_PER_SEC, 60));
    g_assert_false(tern_db_service_is_up(&s, 1061 * G_USEC_PER_SEC, 60));
    s.forced_down = TRUE;
    g_assert_false(tern_db_service_is_up(&s, 1000 * G_USEC_PER_SEC, 60));
    TernDbService never = { 0 };
    g_assert_false(tern_db_service_is_up(&never, 1, 60));
}

static void
test_params(void)
{
    g_autoptr(TernDbParams) p = tern_db_params_new();
    tern_db_params_text(p, "x");
    tern_db_params_text(p, NULL);
    tern_db_params_int(p, -42);
    tern_db_params_float(p, 1.5);
    tern_db_params_bool(p, TRUE);
    tern_db_params_time(p, 0);
    tern_db_params_time(p, 1234567);
    g_assert_cmpint(TERN_DB_PARAMS_N(p), ==, 7);
    const char *const *v = TERN_DB_PARAMS_V(p);
    g_assert_cmpstr(v[0], ==, "x");
    g_assert_null(v[1]);
    g_assert_cmpstr(v[2], ==, "-42");
    g_assert_cmpstr(v[3], ==, "1.5");
    g_assert_cmpstr(v[4], ==, "true");
    g_assert_null(v[5]);
    g_assert_cmpstr(v[6], ==, "1234567");
}

static void
test_open_without_url(void)
{
    g_autoptr(GError) error = NULL;
    g_assert_null(tern_db_open(NULL, 0, 0, &error));
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_CONNECT);
    g_assert_nonnull(strstr(error->message, "[database] connection"));
    g_clear_error(&error);
    /* Nothing listens on port 1: a clear error, password masked. */
    g_assert_null(tern_db_open("postgresql://u:Very-Secret-9@127.0.0.1:1/x?connect_timeout=2",
                               0, 0, &error));
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_CONNECT);
    g_assert_null(strstr(error->message, "Very-Secret-9"));
    g_assert_nonnull(strstr(error->message, "127.0.0.1"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/db/util/strv", test_strv_roundtrip);
    g_test_add_func("/db/util/capacity", test_capacity);
    g_test_add_func("/db/util/service-up", test_service_up);
    g_test_add_func("/db/util/params", test_params);
    g_test_add_func("/db/util/open-errors", test_open_without_url);
    return g_test_run();
}
