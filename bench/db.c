/* bench/db.c: claims per second through tern's claim (tern_db_claim: the
 * capacity-checked UPDATE plus the allocation INSERT, one round trip) with
 * 1 and 8 client processes, next to pgbench running the equivalent bare
 * capacity-checked UPDATE on the same table in the same run, and the ratio.
 *
 *   bench/db [DB_URL]     (default: $TERN_TEST_DB_URL, a superuser URL)
 *   TERN_BENCH_SECONDS=N  seconds per measurement (default 5)
 *
 * It works in a database of its own, created and dropped here. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "db/db.h"
#include "tests/integration/db_fixture.h"

#define HOSTS 20

static const char PGBENCH_SCRIPT[] =
    "\\set id random(1, " G_STRINGIFY(HOSTS) ")\n"
    "UPDATE compute_nodes SET vcpus_used = vcpus_used + 1 WHERE id = :id"
    " AND vcpus_used + 1 <= floor((vcpus - reserved_vcpus) * cpu_allocation_ratio);\n";

/* One client: claim for `seconds`, write the count to fd. */
static int
client(const char *url, double seconds, int fd)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(TernDb) db = tern_db_open(url, 0, 0, &error);
    if (!db) {
        g_printerr("bench/db: %s\n", error->message);
        return 1;
    }
    TernDbResources req = { 1, 16, 1 };
    char host[16];
    gint64 n = 0;
    double end = tern_now() + seconds;
    while (tern_now() < end) {
        g_autofree char *uuid = tern_uuid_new();
        g_snprintf(host, sizeof host, "b%02d", g_random_int_range(0, HOSTS));
        if (tern_db_claim(db, uuid, host, &req, NULL, &error) < 0) {
            g_printerr("bench/db: claim: %s\n", error->message);
            return 1;
        }
        n++;
    }
    return write(fd, &n, sizeof n) == sizeof n ? 0 : 1;
}

static double
tern_rate(const char *url, int clients, double seconds)
{
    int fds[2];
    if (pipe(fds) < 0)
        return -1;
    fflush(NULL);
    pid_t *pids = g_newa(pid_t, clients);
    double t0 = tern_now();
    for (int k = 0; k < clients; k++) {
        pids[k] = fork();
        if (pids[k] == 0) {
            g_random_set_seed((guint32) getpid() ^ (guint32) g_get_real_time());
            close(fds[0]);
            _exit(client(url, seconds, fds[1]));
        }
    }
    close(fds[1]);
    gint64 total = 0, n;
    while (read(fds[0], &n, sizeof n) == sizeof n)
        total += n;
    close(fds[0]);
    int failed = 0;
    for (int k = 0; k < clients; k++) {
        int status;
        waitpid(pids[k], &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failed++;
    }
    double elapsed = tern_now() - t0;
    return failed ? -1 : total / elapsed;
}

static double
pgbench_rate(const char *url, const char *script, int clients, int seconds)
{
    g_autofree char *c = g_strdup_printf("%d", clients);
    g_autofree char *t = g_strdup_printf("%d", seconds);
    const char *argv[] = { "pgbench", "-n", "-M", "prepared", "-f", script, "-c", c, "-j", c,
                           "-T", t, url, NULL };
    g_autofree char *out = NULL, *err = NULL;
    int status;
    g_autoptr(GError) error = NULL;
    if (!g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                      &status, &error) || !g_spawn_check_wait_status(status, NULL)) {
        g_printerr("bench/db: pgbench failed: %s%s\n", error ? error->message : "",
                   err ? err : "");
        return -1;
    }
    /* "tps = 1234.5 (without initial connection time)" */
    const char *p = strstr(out, "tps = ");
    return p ? g_ascii_strtod(p + 6, NULL) : -1;
}

int
main(int argc, char **argv)
{
    tern_log_init("bench-db", FALSE, FALSE);
    const char *base = argc > 1 ? argv[1] : g_getenv("TERN_TEST_DB_URL");
    if (!base || !*base) {
        fprintf(stderr, "usage: bench/db DB_URL (or set TERN_TEST_DB_URL; scripts/services "
                        "start postgresql writes it)\n");
        return 2;
    }
    int seconds = g_getenv("TERN_BENCH_SECONDS") ? atoi(g_getenv("TERN_BENCH_SECONDS")) : 5;
    if (seconds < 1)
        seconds = 1;
    g_autofree char *url = tern_test_db_create(base);
    g_autoptr(GError) error = NULL;
    TernDb *db = tern_db_open(url, 0, 0, &error);
    if (!db || tern_db_schema_sync(db, NULL, NULL, &error) < 0) {
        fprintf(stderr, "bench/db: %s\n", error->message);
        return 1;
    }
    for (int k = 0; k < HOSTS; k++) {
        g_autoptr(TernDbComputeNode) n = tern_db_compute_node_new();
        n->host = g_strdup_printf("b%02d", k);
        n->vcpus = n->memory_mb = n->local_gb = 1000000000;
        if (tern_db_compute_node_update(db, n, &error) < 0) {
            fprintf(stderr, "bench/db: %s\n", error->message);
            return 1;
        }
    }
    g_autofree char *dir = g_dir_make_tmp("tern-bench-XXXXXX", NULL);
    g_autofree char *script = g_build_filename(dir, "update.sql", NULL);
    g_file_set_contents(script, PGBENCH_SCRIPT, -1, NULL);

    printf("bench/db: %d hosts, %d s per run, on %s\n", HOSTS, seconds, tern_db_url_masked(db));
    printf("%-8s %18s %22s %8s\n", "clients", "tern claims/s", "pgbench bare UPDATE/s", "ratio");
    int rc = 0;
    const int counts[] = { 1, 8 };
    for (guint k = 0; k < G_N_ELEMENTS(counts); k++) {
        double tern = tern_rate(url, counts[k], seconds);
        double bare = pgbench_rate(url, script, counts[k], seconds);
        if (tern < 0 || bare <= 0) {
            rc = 1;
            continue;
        }
        printf("%-8d %18.0f %22.0f %8.2f\n", counts[k], tern, bare, tern / bare);
        fflush(stdout);
    }
    g_autoptr(PGresult) r = tern_db_exec(db, "SELECT count(*) FROM allocations", 0, NULL, 0, NULL);
    if (r)
        printf("(%s allocations recorded; ratio = tern claims/s / bare UPDATEs/s)\n",
               PQgetvalue(r, 0, 0));
    g_unlink(script);
    g_rmdir(dir);
    tern_db_close(db);
    tern_test_db_drop(base, url);
    return rc;
}
