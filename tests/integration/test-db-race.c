/* test-db-race.c: 8 processes x 500 claims (with releases mixed in) race
 * for 20 small hosts on a real PostgreSQL. While they run, the parent keeps
 * checking that no host is past its capacity; at the end every successful
 * claim that was not released is recorded exactly once, on its host, with
 * its amounts, and each host's used amounts are the sums of its
 * allocations. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "db/db.h"
#include "tests/integration/db_fixture.h"

enum { PROCS = 8, CLAIMS = 500, HOSTS = 20 };

static const char *base_url;

/* Any host whose allocations or used columns exceed its capacity. */
static const char OVER_SQL[] =
    "SELECT count(*) FROM compute_nodes n LEFT JOIN ("
    "  SELECT node_id, sum(vcpus) v, sum(memory_mb) m, sum(disk_gb) d FROM allocations"
    "  GROUP BY node_id) a ON a.node_id = n.id"
    " WHERE coalesce(a.v, 0) > floor((n.vcpus - n.reserved_vcpus) * n.cpu_allocation_ratio)"
    "  OR coalesce(a.m, 0) > floor((n.memory_mb - n.reserved_memory_mb) * n.ram_allocation_ratio)"
    "  OR coalesce(a.d, 0) > floor((n.local_gb - n.reserved_disk_gb) * n.disk_allocation_ratio)"
    "  OR n.vcpus_used > floor((n.vcpus - n.reserved_vcpus) * n.cpu_allocation_ratio)"
    "  OR n.memory_mb_used > floor((n.memory_mb - n.reserved_memory_mb) * n.ram_allocation_ratio)"
    "  OR n.local_gb_used > floor((n.local_gb - n.reserved_disk_gb) * n.disk_allocation_ratio)";

/* Hosts whose used columns differ from the sums of their allocations. */
static const char MISMATCH_SQL[] =
    "SELECT count(*) FROM compute_nodes n LEFT JOIN ("
    "  SELECT node_id, sum(vcpus) v, sum(memory_mb) m, sum(disk_gb) d, count(*) c"
    "  FROM allocations GROUP BY node_id) a ON a.node_id = n.id"
    " WHERE n.vcpus_used <> coalesce(a.v, 0) OR n.memory_mb_used <> coalesce(a.m, 0)"
    "  OR n.local_gb_used <> coalesce(a.d, 0) OR n.running_vms <> coalesce(a.c, 0)";

static char *
host_name(int k)
{
    return g_strdup_printf("race-%02d", k);
}

/* One racing scheduler: CLAIMS claims, releasing a held one now and then.
 * Writes "C uuid host vcpus memory disk" / "R uuid" / "N" (no room) lines. */
static int
child(const char *url, int index, const char *path)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(TernDb) db = tern_db_open(url, 3, 1, &error);
    if (!db) {
        fprintf(stderr, "child %d: %s\n", index, error->message);
        return 1;
    }
    FILE *out = fopen(path, "w");
    if (!out)
        return 1;
    GRand *rnd = g_rand_new_with_seed(1000 + index);
    g_autoptr(GPtrArray) held = g_ptr_array_new_with_free_func(g_free);
    int rc = 0;
    for (int k = 0; k < CLAIMS && rc == 0;) {
        if (held->len && g_rand_double(rnd) < 0.3) {
            guint pick = g_rand_int_range(rnd, 0, held->len);
            guint released = 0;
            if (tern_db_release(db, held->pdata[pick], NULL, &released, &error) < 0 ||
                released != 1) {
                fprintf(stderr, "child %d: release: %s\n", index,
                        error ? error->message : "nothing released");
                rc = 1;
                break;
            }
            fprintf(out, "R %s\n", (char *) held->pdata[pick]);
            g_ptr_array_remove_index_fast(held, pick);
            continue;
        }
        g_autofree char *uuid = tern_uuid_new();
        g_autofree char *host = host_name(g_rand_int_range(rnd, 0, HOSTS));
        TernDbResources req = { g_rand_int_range(rnd, 1, 4), 256 * g_rand_int_range(rnd, 1, 7),
                                g_rand_int_range(rnd, 1, 9) };
        k++;
        if (tern_db_claim(db, uuid, host, &req, NULL, &error) == 0) {
            fprintf(out, "C %s %s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n",
                    uuid, host, req.vcpus, req.memory_mb, req.disk_gb);
            g_ptr_array_add(held, g_steal_pointer(&uuid));
        } else if (g_error_matches(error, TERN_DB_ERROR, TERN_DB_ERROR_NO_CAPACITY)) {
            fprintf(out, "N\n");
            g_clear_error(&error);
        } else {
            fprintf(stderr, "child %d: claim: %s\n", index, error->message);
            rc = 1;
        }
    }
    g_rand_free(rnd);
    if (fclose(out) != 0)
        rc = 1;
    return rc;
}

typedef struct {
    char *host;
    gint64 vcpus, memory_mb, disk_gb;
} Expected;

static void
expected_free(Expected *e)
{
    g_free(e->host);
    g_free(e);
}

static void
test_race(void)
{
    if (tern_test_db_skip())
        return;
    g_autofree char *url = tern_test_db_create(base_url);
    g_autoptr(GError) error = NULL;
    g_autoptr(TernDb) db = tern_db_open(url, 0, 0, &error);
    g_assert_no_error(error);
    g_assert_cmpint(tern_db_schema_sync(db, NULL, NULL, &error), ==, 0);
    /* Small hosts: 8 vCPUs (4 x 2.0), 4096 MB, 40 GB. */
    for (int k = 0; k < HOSTS; k++) {
        g_autoptr(TernDbComputeNode) n = tern_db_compute_node_new();
        n->host = host_name(k);
        n->vcpus = 4;
        n->memory_mb = 4096;
        n->local_gb = 40;
        n->cpu_allocation_ratio = 2.0;
        g_assert_cmpint(tern_db_compute_node_update(db, n, &error), ==, 0);
    }
    g_autofree char *dir = g_dir_make_tmp("tern-race-XXXXXX", &error);
    g_assert_no_error(error);

    pid_t pids[PROCS];
    char *paths[PROCS];
    /* Each child's random seed: distinct for every child (a seed from pid
     * and clock could be the same for two children, which then drew the
     * same consumer uuids and released each other's claims). */
    guint32 seed_base = g_random_int();
    fflush(NULL);
    for (int k = 0; k < PROCS; k++) {
        paths[k] = g_strdup_printf("%s/child-%d", dir, k);
        pids[k] = fork();
        g_assert_cmpint(pids[k], >=, 0);
        if (pids[k] == 0) {
            /* The forked children share the parent's random state: without
             * this they would all draw the same consumer uuids. */
            g_random_set_seed(seed_base + (guint32) k * 2654435761u);
            _exit(child(url, k, paths[k]));
        }
    }

    /* While they race: never a host over capacity. */
    int running = PROCS, samples = 0, failed = 0;
    while (running > 0) {
        g_autoptr(PGresult) r = tern_db_exec(db, OVER_SQL, 0, NULL, 0, &error);
        g_assert_no_error(error);
        g_assert_cmpint(tern_db_get_int(r, 0, 0), ==, 0);
        samples++;
        g_usleep(5000);
        for (int k = 0; k < PROCS; k++) {
            int status;
            if (pids[k] > 0 && waitpid(pids[k], &status, WNOHANG) == pids[k]) {
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                    failed++;
                pids[k] = 0;
                running--;
            }
        }
    }
    g_assert_cmpint(failed, ==, 0);

    /* What the processes saw succeed, minus what they released. */
    g_autoptr(GHashTable) expected = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                           (GDestroyNotify) expected_free);
    int claimed = 0, refused = 0, released = 0;
    for (int k = 0; k < PROCS; k++) {
        g_autofree char *text = NULL;
        g_assert_true(g_file_get_contents(paths[k], &text, NULL, NULL));
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        for (int j = 0; lines[j] && *lines[j]; j++) {
            g_auto(GStrv) f = g_strsplit(lines[j], " ", -1);
            if (f[0][0] == 'C') {
                Expected *e = g_new0(Expected, 1);
                e->host = g_strdup(f[2]);
                e->vcpus = g_ascii_strtoll(f[3], NULL, 10);
                e->memory_mb = g_ascii_strtoll(f[4], NULL, 10);
                e->disk_gb = g_ascii_strtoll(f[5], NULL, 10);
                g_assert_true(g_hash_table_insert(expected, g_strdup(f[1]), e));
                claimed++;
            } else if (f[0][0] == 'R') {
                g_assert_true(g_hash_table_remove(expected, f[1]));
                released++;
            } else {
                refused++;
            }
        }
        g_unlink(paths[k]);
        g_free(paths[k]);
    }
    g_rmdir(dir);
    g_test_message("%d samples, %d claims granted, %d refused for lack of room, %d released",
                   samples, claimed, refused, released);
    g_assert_cmpint(claimed + refused, ==, PROCS * CLAIMS);
    /* The hosts were contended: both outcomes happened. */
    g_assert_cmpint(claimed, >, 100);
    g_assert_cmpint(refused, >, 100);
    g_assert_cmpint(released, >, 0);

    /* Every live claim is recorded once, as claimed. */
    g_autoptr(GPtrArray) allocs = NULL;
    g_assert_cmpint(tern_db_allocation_list(db, NULL, NULL, &allocs, &error), ==, 0);
    g_assert_cmpint(allocs->len, ==, g_hash_table_size(expected));
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint k = 0; k < allocs->len; k++) {
        TernDbAllocation *a = allocs->pdata[k];
        Expected *e = g_hash_table_lookup(expected, a->consumer_uuid);
        g_assert_nonnull(e);
        g_assert_true(g_hash_table_add(seen, a->consumer_uuid));
        g_assert_cmpstr(a->host, ==, e->host);
        g_assert_cmpint(a->vcpus, ==, e->vcpus);
        g_assert_cmpint(a->memory_mb, ==, e->memory_mb);
        g_assert_cmpint(a->disk_gb, ==, e->disk_gb);
    }
    g_autoptr(PGresult) over = tern_db_exec(db, OVER_SQL, 0, NULL, 0, &error);
    g_assert_cmpint(tern_db_get_int(over, 0, 0), ==, 0);
    g_autoptr(PGresult) mismatch = tern_db_exec(db, MISMATCH_SQL, 0, NULL, 0, &error);
    g_assert_cmpint(tern_db_get_int(mismatch, 0, 0), ==, 0);

    g_clear_pointer(&db, tern_db_close);
    tern_test_db_drop(base_url, url);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    base_url = g_getenv("TERN_TEST_DB_URL");
    g_test_add_func("/db/claims/race", test_race);
    return g_test_run();
}
