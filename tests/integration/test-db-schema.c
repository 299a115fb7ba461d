/* test-db-schema.c: schema migrations against a real PostgreSQL: from an
 * empty database, re-run (no-op), several `tern-manage db sync` at once,
 * the version check daemons do, and connection errors that never show the
 * password. */
#include <glib.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "db/db.h"
#include "tests/integration/db_fixture.h"

static const char *base_url;

static void
test_sync_from_empty(void)
{
    if (tern_test_db_skip())
        return;
    g_autofree char *url = tern_test_db_create(base_url);
    g_autoptr(GError) error = NULL;
    g_autoptr(TernDb) db = tern_db_open(url, 0, 0, &error);
    g_assert_no_error(error);

    int v = -1;
    g_assert_cmpint(tern_db_schema_version(db, &v, &error), ==, 0);
    g_assert_cmpint(v, ==, 0);
    /* A daemon refuses an empty database, naming the fix. */
    g_assert_cmpint(tern_db_schema_check(db, &error), ==, -1);
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_SCHEMA);
    g_assert_nonnull(strstr(error->message, "tern-manage db sync"));
    g_clear_error(&error);

    int from = -1, to = -1;
    g_assert_cmpint(tern_db_schema_sync(db, &from, &to, &error), ==, 0);
    g_assert_no_error(error);
    g_assert_cmpint(from, ==, 0);
    g_assert_cmpint(to, ==, tern_db_schema_latest());
    g_assert_cmpint(tern_db_schema_latest(), >=, 1);
    g_assert_cmpint(tern_db_schema_check(db, &error), ==, 0);

    /* Every table is there and usable. */
    const char *tables[] = { "services", "compute_nodes", "instances", "instance_faults",
                             "migrations", "allocations", "changes" };
    for (guint k = 0; k < G_N_ELEMENTS(tables); k++) {
        const char *p[] = { tables[k] };
        g_autoptr(PGresult) r = tern_db_exec(db, "SELECT to_regclass($1) IS NOT NULL", 1, p, 0,
                                             &error);
        g_assert_no_error(error);
        g_assert_true(tern_db_get_bool(r, 0, 0));
    }

    /* Re-run: nothing to do, nothing applied twice. */
    g_assert_cmpint(tern_db_schema_sync(db, &from, &to, &error), ==, 0);
    g_assert_cmpint(from, ==, to);
    g_assert_cmpint(to, ==, tern_db_schema_latest());
    g_autoptr(PGresult) r = tern_db_exec(db, "SELECT count(*) FROM tern_schema_version", 0, NULL,
                                         0, &error);
    g_assert_cmpint(tern_db_get_int(r, 0, 0), ==, tern_db_schema_latest());

    /* A database newer than this build is refused. */
    g_assert_cmpint(tern_db_command(db,
        "INSERT INTO tern_schema_version (version, name) VALUES (9999, '9999_future.sql')",
        0, NULL, 0, &error), ==, 0);
    g_assert_cmpint(tern_db_schema_sync(db, NULL, NULL, &error), ==, -1);
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_SCHEMA);
    g_clear_error(&error);

    g_clear_pointer(&db, tern_db_close);
    tern_test_db_drop(base_url, url);
}

/* Six `tern-manage db sync` started at once on one empty database: all
 * succeed, the schema is applied exactly once. */
static void
test_concurrent_sync(void)
{
    if (tern_test_db_skip())
        return;
    g_autofree char *url = tern_test_db_create(base_url);
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("tern-db-XXXXXX", &error);
    g_assert_no_error(error);
    g_autofree char *conf = g_build_filename(dir, "tern.conf", NULL);
    g_autofree char *text = g_strdup_printf("[database]\nconnection = %s\n", url);
    g_assert_true(g_file_set_contents(conf, text, -1, NULL));
    g_chmod(conf, 0600);
    g_autofree char *manage = g_build_filename(g_getenv("TERN_BUILDDIR"), "tern-manage", NULL);

    g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_ENCODED, NULL);
    const char *password = strchr(g_uri_get_userinfo(uri), ':') + 1;
    enum { N = 6 };
    GSubprocess *procs[N];
    for (int k = 0; k < N; k++) {
        procs[k] = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                    &error, manage, "--config-file", conf, "db", "sync", NULL);
        g_assert_no_error(error);
    }
    int upgraded = 0;
    for (int k = 0; k < N; k++) {
        g_autofree char *out = NULL, *err = NULL;
        g_assert_true(g_subprocess_communicate_utf8(procs[k], NULL, NULL, &out, &err, &error));
        g_assert_no_error(error);
        if (g_subprocess_get_exit_status(procs[k]) != 0)
            g_error("db sync %d failed: %s%s", k, out, err);
        if (strstr(out, "upgraded from version 0"))
            upgraded++;
        else
            g_assert_nonnull(strstr(out, "up to date"));
        /* The password never reaches the output. */
        g_assert_null(strstr(out, password));
        g_assert_null(strstr(err, password));
        g_object_unref(procs[k]);
    }
    g_assert_cmpint(upgraded, ==, 1);

    g_autoptr(TernDb) db = tern_db_open(url, 0, 0, &error);
    g_assert_no_error(error);
    g_autoptr(PGresult) r = tern_db_exec(db, "SELECT count(*), max(version) FROM tern_schema_version",
                                         0, NULL, 0, &error);
    g_assert_cmpint(tern_db_get_int(r, 0, 0), ==, tern_db_schema_latest());
    g_assert_cmpint(tern_db_get_int(r, 0, 1), ==, tern_db_schema_latest());

    /* `db version` prints it. */
    g_autofree char *out = NULL;
    g_autoptr(GSubprocess) p = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, manage,
                                                "--config-file", conf, "db", "version", NULL);
    g_assert_true(g_subprocess_communicate_utf8(p, NULL, NULL, &out, NULL, &error));
    g_autofree char *want = g_strdup_printf("%d\n", tern_db_schema_latest());
    g_assert_cmpstr(out, ==, want);

    /* `service list` shows a service that just reported, as up. */
    g_assert_cmpint(tern_db_service_heartbeat(db, "tern-compute", "cmp-7", "compute", 1, NULL,
                                              &error), ==, 0);
    g_assert_cmpint(tern_db_service_set_disabled(db, "tern-compute", "cmp-7", TRUE, "rack 4",
                                                 &error), ==, 0);
    g_autofree char *list = NULL;
    g_autoptr(GSubprocess) lp = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, manage,
                                                 "--config-file", conf, "service", "list", NULL);
    g_assert_true(g_subprocess_communicate_utf8(lp, NULL, NULL, &list, NULL, &error));
    g_assert_true(g_regex_match_simple("^tern-compute +cmp-7 +compute +disabled +up .*rack 4$",
                                       list, G_REGEX_MULTILINE, 0));

    /* `db prune-changes 0` empties the change feed; a bad argument is refused. */
    gint64 latest = 0;
    g_assert_cmpint(tern_db_changes_latest(db, &latest, &error), ==, 0);
    g_assert_cmpint(latest, >, 0);
    g_autofree char *pruned = NULL;
    g_autoptr(GSubprocess) pp = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, manage,
                                                 "--config-file", conf, "db", "prune-changes", "0",
                                                 NULL);
    g_assert_true(g_subprocess_communicate_utf8(pp, NULL, NULL, &pruned, NULL, &error));
    g_assert_cmpint(g_subprocess_get_exit_status(pp), ==, 0);
    g_assert_nonnull(strstr(pruned, "Deleted 2 change records"));
    g_autoptr(GPtrArray) left = NULL;
    g_assert_cmpint(tern_db_changes_since(db, 0, 0, &left, &error), ==, 0);
    g_assert_cmpint(left->len, ==, 0);
    g_autoptr(GSubprocess) bad = g_subprocess_new(G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error, manage,
                                                  "--config-file", conf, "db", "prune-changes",
                                                  "x; DROP", NULL);
    g_assert_true(g_subprocess_wait(bad, NULL, &error));
    g_assert_cmpint(g_subprocess_get_exit_status(bad), ==, 2);

    g_clear_pointer(&db, tern_db_close);
    g_unlink(conf);
    g_rmdir(dir);
    tern_test_db_drop(base_url, url);
}

/* A wrong password: a clear error that names the server but not the password. */
static void
test_bad_password(void)
{
    if (tern_test_db_skip())
        return;
    g_autoptr(GUri) uri = g_uri_parse(base_url, G_URI_FLAGS_ENCODED, NULL);
    g_autoptr(GUri) bad = g_uri_build(G_URI_FLAGS_ENCODED, "postgresql", "tern:Wrong-Secret-77",
                                      g_uri_get_host(uri), g_uri_get_port(uri), "/tern", NULL,
                                      NULL);
    g_autofree char *url = g_uri_to_string(bad);
    g_autoptr(GError) error = NULL;
    TernDb *db = tern_db_open(url, 0, 0, &error);
    g_assert_null(db);
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_CONNECT);
    g_assert_null(strstr(error->message, "Wrong-Secret-77"));
    g_assert_nonnull(strstr(error->message, g_uri_get_host(uri)));
    g_assert_nonnull(strstr(error->message, "password authentication failed"));
}

/* URL options reach libpq as they are: sslmode=require against this
 * server (no TLS) is refused by libpq, sslmode=disable connects. */
static void
test_url_options(void)
{
    if (tern_test_db_skip())
        return;
    g_autoptr(GError) error = NULL;
    g_autofree char *require = g_strdup_printf("%s?sslmode=require", base_url);
    TernDb *db = tern_db_open(require, 0, 0, &error);
    g_assert_null(db);
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_CONNECT);
    g_assert_nonnull(strstr(error->message, "SSL"));
    g_assert_nonnull(strstr(error->message, ":****@"));
    g_clear_error(&error);
    g_autofree char *disable = g_strdup_printf("%s?sslmode=disable&application_name=tern-test",
                                               base_url);
    g_autoptr(TernDb) ok = tern_db_open(disable, 0, 0, &error);
    g_assert_no_error(error);
    g_autoptr(PGresult) r = tern_db_exec(ok, "SELECT current_setting('application_name')", 0,
                                         NULL, 0, &error);
    g_assert_cmpstr(PQgetvalue(r, 0, 0), ==, "tern-test");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    base_url = g_getenv("TERN_TEST_DB_URL");
    g_test_add_func("/db/schema/sync-from-empty", test_sync_from_empty);
    g_test_add_func("/db/schema/concurrent-sync", test_concurrent_sync);
    g_test_add_func("/db/schema/bad-password", test_bad_password);
    g_test_add_func("/db/schema/url-options", test_url_options);
    return g_test_run();
}
