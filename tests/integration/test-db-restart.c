/* test-db-restart.c: PostgreSQL restarted in the middle of a claim loop.
 * The loop's claims after the restart succeed (the connection is
 * re-established and an interrupted claim is retried), no claim is
 * half-applied or counted twice, and a change listener reconnects and
 * catches up on what it missed.
 *
 * The restart would break every other test using the shared server, so
 * this test starts its own private PostgreSQL with scripts/services (in a
 * temporary TERN_SERVICES_DIR), restarts that one, and stops it. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "db/db.h"

enum { HOSTS = 5, BEFORE = 100, AFTER = 100 };

static char *services_dir;

static gboolean
services(const char *verb, const char *name, char **out)
{
    g_autofree char *script = g_build_filename(g_getenv("TERN_SRCDIR"), "scripts", "services",
                                               NULL);
    const char *argv[] = { script, verb, name, NULL };
    g_auto(GStrv) env = g_get_environ();
    env = g_environ_setenv(env, "TERN_SERVICES_DIR", services_dir, TRUE);
    int status = -1;
    g_autofree char *err = NULL;
    g_autoptr(GError) error = NULL;
    if (!g_spawn_sync(NULL, (char **) argv, env, G_SPAWN_DEFAULT, NULL, NULL, out, &err, &status,
                      &error)) {
        g_printerr("scripts/services %s: %s\n", verb, error->message);
        return FALSE;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_printerr("scripts/services %s %s failed: %s\n", verb, name, err);
        return FALSE;
    }
    return TRUE;
}

static gint64
count_lines(const char *path, const char *prefix, int min_reconnects)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    gint64 n = 0;
    for (int k = 0; lines[k]; k++) {
        if (!g_str_has_prefix(lines[k], prefix))
            continue;
        g_auto(GStrv) f = g_strsplit(lines[k], " ", -1);
        if (g_strv_length(f) >= 4 && atoi(f[3]) >= min_reconnects)
            n++;
    }
    return n;
}

/* The claim loop: "ok UUID HOST RECONNECTS" or "fail UUID HOST message". */
static int
claim_loop(const char *url, const char *log, const char *stop)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(TernDb) db = tern_db_open(url, 60, 1, &error);
    if (!db)
        return 1;
    FILE *out = fopen(log, "w");
    if (!out)
        return 1;
    for (int k = 0; k < 200000 && !g_file_test(stop, G_FILE_TEST_EXISTS); k++) {
        g_autofree char *uuid = tern_uuid_new();
        g_autofree char *host = g_strdup_printf("r%d", k % HOSTS);
        TernDbResources req = { 1, 64, 1 };
        if (tern_db_claim(db, uuid, host, &req, NULL, &error) == 0) {
            fprintf(out, "ok %s %s %u\n", uuid, host, tern_db_reconnects(db));
        } else {
            fprintf(out, "fail %s %s %s\n", uuid, host, error->message);
            g_clear_error(&error);
        }
        fflush(out);
        g_usleep(2000);
    }
    fclose(out);
    return 0;
}

typedef struct {
    GMainLoop *loop;
    gint64 until;
} CatchUp;

static gboolean
on_changes(TernDbListener *l, GPtrArray *changes, const GError *error, gpointer data)
{
    CatchUp *cu = data;
    g_assert_no_error(error);
    if (tern_db_listener_last_id(l) >= cu->until)
        g_main_loop_quit(cu->loop);
    return TRUE;
}

static gboolean
quit_loop(gpointer loop)
{
    g_main_loop_quit(loop);
    return G_SOURCE_REMOVE;
}

static void
test_restart_subprocess(void)
{
    const char *url = g_getenv("TERN_RESTART_DB_URL");
    g_autoptr(GError) error = NULL;
    g_autoptr(TernDb) db = tern_db_open(url, 60, 1, &error);
    g_assert_no_error(error);
    g_assert_cmpint(tern_db_schema_sync(db, NULL, NULL, &error), ==, 0);
    for (int k = 0; k < HOSTS; k++) {
        g_autoptr(TernDbComputeNode) n = tern_db_compute_node_new();
        n->host = g_strdup_printf("r%d", k);
        n->vcpus = 100000;
        n->memory_mb = 10000000;
        n->local_gb = 100000;
        g_assert_cmpint(tern_db_compute_node_update(db, n, &error), ==, 0);
    }
    g_autoptr(TernDbListener) listener = tern_db_listener_open(url, 60, 1, -1, &error);
    g_assert_no_error(error);

    g_autofree char *log = g_build_filename(services_dir, "claims.log", NULL);
    g_autofree char *stop = g_build_filename(services_dir, "claims.stop", NULL);
    fflush(NULL);
    pid_t pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        g_random_set_seed((guint32) getpid() ^ (guint32) g_get_real_time());
        _exit(claim_loop(url, log, stop));
    }

    gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    while (count_lines(log, "ok ", 0) < BEFORE && g_get_monotonic_time() < deadline)
        g_usleep(20000);
    g_assert_cmpint(count_lines(log, "ok ", 0), >=, BEFORE);
    /* The listener has seen the changes so far. */
    g_autoptr(GPtrArray) pre = NULL;
    g_assert_cmpint(tern_db_listener_read(listener, &pre, &error), ==, 0);
    gint64 before_restart = tern_db_listener_last_id(listener);

    g_printerr("# restarting PostgreSQL under the claim loop\n");
    g_assert_true(services("restart", "postgresql", NULL));

    while (count_lines(log, "ok ", 1) < AFTER && g_get_monotonic_time() < deadline)
        g_usleep(20000);
    g_file_set_contents(stop, "", 0, NULL);
    int status;
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* Later claims succeeded after a reconnect; none failed. */
    gint64 ok = count_lines(log, "ok ", 0);
    gint64 after = count_lines(log, "ok ", 1);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    int failed = 0;
    for (int k = 0; lines[k]; k++)
        if (g_str_has_prefix(lines[k], "fail ")) {
            g_printerr("%s\n", lines[k]);
            failed++;
        }
    g_printerr("# %" G_GINT64_FORMAT " claims, %" G_GINT64_FORMAT " after the reconnect, %d failed\n",
               ok, after, failed);
    g_assert_cmpint(failed, ==, 0);
    g_assert_cmpint(after, >=, AFTER);

    /* Each successful claim is recorded once; usage equals the allocations. */
    g_autoptr(GPtrArray) allocs = NULL;
    g_assert_cmpint(tern_db_allocation_list(db, NULL, NULL, &allocs, &error), ==, 0);
    g_assert_no_error(error);
    g_assert_cmpint(allocs->len, ==, ok);
    g_autoptr(GHashTable) want = g_hash_table_new(g_str_hash, g_str_equal);
    for (int k = 0; lines[k]; k++)
        if (g_str_has_prefix(lines[k], "ok "))
            g_hash_table_add(want, lines[k] + 3);
    for (guint k = 0; k < allocs->len; k++) {
        TernDbAllocation *a = allocs->pdata[k];
        g_autofree char *line = g_strdup_printf("%s %s ", a->consumer_uuid, a->host);
        gboolean found = FALSE;
        GHashTableIter it;
        gpointer key;
        g_hash_table_iter_init(&it, want);
        while (!found && g_hash_table_iter_next(&it, &key, NULL))
            if (g_str_has_prefix(key, line)) {
                g_hash_table_iter_remove(&it);
                found = TRUE;
            }
        g_assert_true(found);
    }
    g_autoptr(PGresult) r = tern_db_exec(db,
        "SELECT count(*) FROM compute_nodes n LEFT JOIN ("
        "  SELECT node_id, sum(vcpus) v, sum(memory_mb) m, sum(disk_gb) d, count(*) c"
        "  FROM allocations GROUP BY node_id) a ON a.node_id = n.id"
        " WHERE n.vcpus_used <> coalesce(a.v, 0) OR n.memory_mb_used <> coalesce(a.m, 0)"
        "  OR n.local_gb_used <> coalesce(a.d, 0) OR n.running_vms <> coalesce(a.c, 0)",
        0, NULL, TERN_DB_EXEC_RETRY_SAFE, &error);
    g_assert_no_error(error);
    g_assert_cmpint(tern_db_get_int(r, 0, 0), ==, 0);
    g_assert_cmpuint(tern_db_reconnects(db), >=, 1);

    /* The listener reconnects and catches up to the newest change. */
    gint64 latest = 0;
    g_assert_cmpint(tern_db_changes_latest(db, &latest, &error), ==, 0);
    g_assert_cmpint(latest, >, before_restart);
    /* Through the main-loop watch, as a daemon would. */
    int fd_before = tern_db_listener_fd(listener);
    CatchUp cu = { g_main_loop_new(NULL, FALSE), latest };
    guint watch = tern_db_listener_add_watch(listener, NULL, on_changes, &cu, NULL);
    guint timer = g_timeout_add_seconds(20, quit_loop, cu.loop);
    g_main_loop_run(cu.loop);
    g_source_remove(watch);
    g_main_loop_unref(cu.loop);
    g_assert_cmpint(tern_db_listener_last_id(listener), ==, latest);
    g_source_remove(timer);
    g_printerr("# listener caught up to change %" G_GINT64_FORMAT " (socket %d -> %d)\n", latest,
               fd_before, tern_db_listener_fd(listener));
}

static void
test_restart(void)
{
    if (!g_getenv("TERN_TEST_DB_URL") || !*g_getenv("TERN_TEST_DB_URL")) {
        g_test_skip("TERN_TEST_DB_URL is not set (run scripts/services start postgresql)");
        return;
    }
    if (geteuid() != 0) {
        g_test_skip("starting a private PostgreSQL with scripts/services needs root");
        return;
    }
    g_autoptr(GError) error = NULL;
    services_dir = g_dir_make_tmp("tern-pgrestart-XXXXXX", &error);
    g_assert_no_error(error);
    g_chmod(services_dir, 0755);
    gboolean started = services("start", "postgresql", NULL);
    g_autofree char *env = NULL;
    g_autofree char *envfile = g_build_filename(services_dir, "env", NULL);
    if (started && g_file_get_contents(envfile, &env, NULL, NULL)) {
        const char *p = strstr(env, "TERN_TEST_DB_URL='");
        g_assert_nonnull(p);
        p += strlen("TERN_TEST_DB_URL='");
        g_autofree char *url = g_strndup(p, strchr(p, '\'') - p);
        g_setenv("TERN_RESTART_DB_URL", url, TRUE);
        g_setenv("TERN_RESTART_DIR", services_dir, TRUE);
        g_test_trap_subprocess("/db/restart/claim-loop/subprocess", 120 * G_USEC_PER_SEC,
                               G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
    }
    /* Always stop the private server, whatever happened. */
    services("stop", "postgresql", NULL);
    g_autofree char *rm_out = NULL;
    const char *rm[] = { "rm", "-rf", services_dir, NULL };
    g_spawn_sync(NULL, (char **) rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &rm_out, NULL, NULL,
                 NULL);
    g_assert_true(started);
    g_test_trap_assert_passed();
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (g_getenv("TERN_RESTART_DIR"))
        services_dir = g_strdup(g_getenv("TERN_RESTART_DIR"));
    g_test_add_func("/db/restart/claim-loop", test_restart);
    g_test_add_func("/db/restart/claim-loop/subprocess", test_restart_subprocess);
    return g_test_run();
}
