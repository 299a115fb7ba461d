/* test-db-claims.c: claims, releases and move claims against a real
 * PostgreSQL (capacity with reserved amounts and allocation ratios,
 * idempotent repeats, swap and drop of a move), and the change feed:
 * a listener sees a claim within one second and catches up from an id,
 * or asks for a full reload when what it missed was pruned. */
#include <glib.h>
#include <string.h>

#include "db/db.h"
#include "tests/integration/db_fixture.h"

static const char *base_url;
static char *url;
static TernDb *db;

static void
add_host(const char *host, gint64 vcpus, gint64 memory_mb, gint64 disk_gb, double cpu_ratio)
{
    g_autoptr(TernDbComputeNode) n = tern_db_compute_node_new();
    n->host = g_strdup(host);
    n->arch = g_strdup("x86_64");
    n->vcpus = vcpus;
    n->memory_mb = memory_mb;
    n->local_gb = disk_gb;
    n->reserved_memory_mb = 512;
    n->cpu_allocation_ratio = cpu_ratio;
    g_autoptr(GError) error = NULL;
    g_assert_cmpint(tern_db_compute_node_update(db, n, &error), ==, 0);
    g_assert_no_error(error);
}

static TernDbComputeNode *
get_host(const char *host)
{
    TernDbComputeNode *n = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_cmpint(tern_db_compute_node_get(db, host, &n, &error), ==, 0);
    return n;
}

static void
test_claim_release(void)
{
    if (tern_test_db_skip())
        return;
    g_autoptr(GError) error = NULL;
    /* 4 vCPUs x 2.0 = 8; 4096 - 512 = 3584 MB; 100 GB. */
    add_host("c1", 4, 4096, 100, 2.0);
    const char *a = "11111111-1111-4111-8111-111111111111";
    const char *b = "22222222-2222-4222-8222-222222222222";
    const char *c = "33333333-3333-4333-8333-333333333333";
    TernDbResources big = { 6, 2048, 10 };
    gboolean held = TRUE;
    g_assert_cmpint(tern_db_claim(db, a, "c1", &big, &held, &error), ==, 0);
    g_assert_no_error(error);
    g_assert_false(held);
    g_autoptr(TernDbComputeNode) n = get_host("c1");
    g_assert_cmpint(n->vcpus_used, ==, 6);
    g_assert_cmpint(n->memory_mb_used, ==, 2048);
    g_assert_cmpint(n->local_gb_used, ==, 10);
    g_assert_cmpint(n->running_vms, ==, 1);
    gint64 gen = n->generation;

    /* The same claim again: held, counted once. */
    g_assert_cmpint(tern_db_claim(db, a, "c1", &big, &held, &error), ==, 0);
    g_assert_true(held);
    g_clear_pointer(&n, tern_db_compute_node_free);
    n = get_host("c1");
    g_assert_cmpint(n->vcpus_used, ==, 6);
    g_assert_cmpint(n->generation, ==, gen);

    /* 6 + 3 > 8 vCPUs: refused, nothing changes. */
    TernDbResources three = { 3, 512, 1 };
    g_assert_cmpint(tern_db_claim(db, b, "c1", &three, NULL, &error), ==, -1);
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_NO_CAPACITY);
    g_assert_nonnull(strstr(error->message, "c1"));
    g_clear_error(&error);
    /* Exactly to the vCPU limit fits; memory: 2048 + 1536 = 3584 = the limit. */
    TernDbResources fit = { 2, 1536, 90 };
    g_assert_cmpint(tern_db_claim(db, b, "c1", &fit, NULL, &error), ==, 0);
    /* Now full on every axis: even 0 vCPUs and 1 MB is refused. */
    TernDbResources tiny = { 0, 1, 0 };
    g_assert_cmpint(tern_db_claim(db, c, "c1", &tiny, NULL, &error), ==, -1);
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_NO_CAPACITY);
    g_clear_error(&error);

    /* Unknown host, malformed uuid, negative amounts. */
    g_assert_cmpint(tern_db_claim(db, c, "nohost", &tiny, NULL, &error), ==, -1);
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_NOT_FOUND);
    g_clear_error(&error);
    g_assert_cmpint(tern_db_claim(db, "not-a-uuid'--", "c1", &tiny, NULL, &error), ==, -1);
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_INVALID);
    g_clear_error(&error);
    TernDbResources neg = { -1, 0, 0 };
    g_assert_cmpint(tern_db_claim(db, c, "c1", &neg, NULL, &error), ==, -1);
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_INVALID);
    g_clear_error(&error);

    g_autoptr(GPtrArray) allocs = NULL;
    g_assert_cmpint(tern_db_allocation_list(db, NULL, "c1", &allocs, &error), ==, 0);
    g_assert_cmpint(allocs->len, ==, 2);

    /* Release a, twice: the second releases nothing. */
    guint released = 0;
    g_assert_cmpint(tern_db_release(db, a, "c1", &released, &error), ==, 0);
    g_assert_cmpint(released, ==, 1);
    g_assert_cmpint(tern_db_release(db, a, NULL, &released, &error), ==, 0);
    g_assert_cmpint(released, ==, 0);
    g_clear_pointer(&n, tern_db_compute_node_free);
    n = get_host("c1");
    g_assert_cmpint(n->vcpus_used, ==, 2);
    g_assert_cmpint(n->memory_mb_used, ==, 1536);
    g_assert_cmpint(n->local_gb_used, ==, 90);
    g_assert_cmpint(n->running_vms, ==, 1);
    g_assert_cmpint(tern_db_claim(db, c, "c1", &three, NULL, &error), ==, 0);
    g_assert_cmpint(tern_db_release(db, b, NULL, NULL, &error), ==, 0);
    g_assert_cmpint(tern_db_release(db, c, NULL, NULL, &error), ==, 0);
    g_clear_pointer(&n, tern_db_compute_node_free);
    n = get_host("c1");
    g_assert_cmpint(n->vcpus_used, ==, 0);
    g_assert_cmpint(n->memory_mb_used, ==, 0);
    g_assert_cmpint(n->running_vms, ==, 0);
}

static void
test_move_claims(void)
{
    if (tern_test_db_skip())
        return;
    g_autoptr(GError) error = NULL;
    add_host("src", 8, 8704, 100, 1.0);
    add_host("dst", 8, 8704, 100, 1.0);
    add_host("small", 1, 1024, 10, 1.0);
    const char *inst = "44444444-4444-4444-8444-444444444444";
    const char *mig = "55555555-5555-4555-8555-555555555555";
    const char *mig2 = "66666666-6666-4666-8666-666666666666";
    TernDbResources req = { 4, 4096, 20 };
    g_assert_cmpint(tern_db_claim(db, inst, "src", &req, NULL, &error), ==, 0);

    /* A destination without room refuses the move claim. */
    g_assert_cmpint(tern_db_move_claim(db, mig2, "small", &req, NULL, &error), ==, -1);
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_NO_CAPACITY);
    g_clear_error(&error);

    /* During the move both hosts hold the resources. */
    g_assert_cmpint(tern_db_move_claim(db, mig, "dst", &req, NULL, &error), ==, 0);
    g_autoptr(TernDbComputeNode) s = get_host("src");
    g_autoptr(TernDbComputeNode) d = get_host("dst");
    g_assert_cmpint(s->vcpus_used, ==, 4);
    g_assert_cmpint(d->vcpus_used, ==, 4);

    /* Failure: the destination hold goes, the source stays. */
    g_assert_cmpint(tern_db_move_revert(db, mig, &error), ==, 0);
    g_assert_cmpint(tern_db_move_revert(db, mig, &error), ==, 0);
    g_clear_pointer(&s, tern_db_compute_node_free);
    g_clear_pointer(&d, tern_db_compute_node_free);
    s = get_host("src");
    d = get_host("dst");
    g_assert_cmpint(s->vcpus_used, ==, 4);
    g_assert_cmpint(d->vcpus_used, ==, 0);

    /* Success: the instance ends up holding the destination only. */
    g_assert_cmpint(tern_db_move_claim(db, mig, "dst", &req, NULL, &error), ==, 0);
    g_assert_cmpint(tern_db_move_confirm(db, mig, inst, "src", &error), ==, 0);
    g_assert_no_error(error);
    g_assert_cmpint(tern_db_move_confirm(db, mig, inst, "src", &error), ==, 0);
    g_clear_pointer(&s, tern_db_compute_node_free);
    g_clear_pointer(&d, tern_db_compute_node_free);
    s = get_host("src");
    d = get_host("dst");
    g_assert_cmpint(s->vcpus_used, ==, 0);
    g_assert_cmpint(s->running_vms, ==, 0);
    g_assert_cmpint(d->vcpus_used, ==, 4);
    g_assert_cmpint(d->memory_mb_used, ==, 4096);
    g_autoptr(GPtrArray) allocs = NULL;
    g_assert_cmpint(tern_db_allocation_list(db, inst, NULL, &allocs, &error), ==, 0);
    g_assert_cmpint(allocs->len, ==, 1);
    TernDbAllocation *a = allocs->pdata[0];
    g_assert_cmpstr(a->host, ==, "dst");
    g_assert_cmpint(a->vcpus, ==, 4);
    g_clear_pointer(&allocs, g_ptr_array_unref);
    g_assert_cmpint(tern_db_allocation_list(db, mig, NULL, &allocs, &error), ==, 0);
    g_assert_cmpint(allocs->len, ==, 0);
    g_assert_cmpint(tern_db_release(db, inst, NULL, NULL, &error), ==, 0);
}

typedef struct {
    GMainLoop *loop;
    gboolean seen;
} WatchState;

static gboolean
on_changes(TernDbListener *l, GPtrArray *changes, const GError *error, gpointer data)
{
    WatchState *w = data;
    g_assert_no_error(error);
    for (guint k = 0; k < changes->len; k++) {
        TernDbChange *c = changes->pdata[k];
        if (strcmp(c->table, "compute_nodes") == 0 && strcmp(c->key, "feed2") == 0)
            w->seen = TRUE;
    }
    if (w->seen)
        g_main_loop_quit(w->loop);
    return TRUE;
}

static gboolean
on_timeout(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_REMOVE;
}

/* A daemon's main loop: the watch calls back with a claim's change. */
static void
test_change_watch(void)
{
    if (tern_test_db_skip())
        return;
    g_autoptr(GError) error = NULL;
    add_host("feed2", 4, 4096, 40, 1.0);
    g_autoptr(TernDbListener) l = tern_db_listener_open(url, 0, 0, -1, &error);
    g_assert_no_error(error);
    WatchState w = { g_main_loop_new(NULL, FALSE), FALSE };
    guint id = tern_db_listener_add_watch(l, NULL, on_changes, &w, NULL);
    guint timer = g_timeout_add(1000, on_timeout, w.loop);
    TernDbResources req = { 1, 512, 1 };
    g_assert_cmpint(tern_db_claim(db, "88888888-8888-4888-8888-888888888888", "feed2", &req, NULL,
                                  &error), ==, 0);
    g_main_loop_run(w.loop);
    g_assert_true(w.seen);
    g_source_remove(timer);
    g_source_remove(id);
    g_main_loop_unref(w.loop);
}

/* The change feed: a claim on a host reaches a listener within a second. */
static void
test_change_feed(void)
{
    if (tern_test_db_skip())
        return;
    g_autoptr(GError) error = NULL;
    add_host("feed1", 4, 4096, 40, 1.0);
    gint64 before = 0;
    g_assert_cmpint(tern_db_changes_latest(db, &before, &error), ==, 0);
    g_assert_cmpint(before, >, 0);

    g_autoptr(TernDbListener) l = tern_db_listener_open(url, 0, 0, -1, &error);
    g_assert_no_error(error);
    g_assert_cmpint(tern_db_listener_fd(l), >=, 0);
    g_assert_cmpint(tern_db_listener_last_id(l), ==, before);
    g_autoptr(GPtrArray) none = NULL;
    g_assert_cmpint(tern_db_listener_read(l, &none, &error), ==, 0);
    g_assert_cmpint(none->len, ==, 0);

    TernDbResources req = { 1, 512, 1 };
    gint64 t0 = g_get_monotonic_time();
    g_assert_cmpint(tern_db_claim(db, "77777777-7777-4777-8777-777777777777", "feed1", &req, NULL,
                                  &error), ==, 0);
    gboolean seen = FALSE;
    while (!seen && g_get_monotonic_time() - t0 < G_USEC_PER_SEC) {
        g_autoptr(GPtrArray) got = NULL;
        g_assert_cmpint(tern_db_listener_wait(l, 100, &got, &error), ==, 0);
        for (guint k = 0; k < got->len; k++) {
            TernDbChange *c = got->pdata[k];
            g_assert_cmpint(c->id, >, before);
            if (strcmp(c->table, "compute_nodes") == 0 && strcmp(c->key, "feed1") == 0 &&
                strcmp(c->op, "UPDATE") == 0)
                seen = TRUE;
        }
    }
    g_assert_true(seen);
    g_test_message("claim seen by the listener after %.1f ms",
                   (g_get_monotonic_time() - t0) / 1000.0);

    /* Heartbeats are not changes; disabling a service is. */
    gint64 mark = tern_db_listener_last_id(l);
    g_assert_cmpint(tern_db_service_heartbeat(db, "tern-compute", "feed1", "compute", 1, NULL,
                                              &error), ==, 0);
    g_assert_cmpint(tern_db_service_heartbeat(db, "tern-compute", "feed1", "compute", 1, NULL,
                                              &error), ==, 0);
    g_assert_cmpint(tern_db_service_set_disabled(db, "tern-compute", "feed1", TRUE, "x", &error), ==, 0);
    g_autoptr(GPtrArray) since = NULL;
    g_assert_cmpint(tern_db_changes_since(db, mark, 0, &since, &error), ==, 0);
    g_assert_cmpint(since->len, ==, 2);   /* the INSERT of the first heartbeat, the disable */
    g_assert_cmpstr(((TernDbChange *) since->pdata[0])->op, ==, "INSERT");
    g_assert_cmpstr(((TernDbChange *) since->pdata[1])->op, ==, "UPDATE");
    g_assert_cmpstr(((TernDbChange *) since->pdata[1])->table, ==, "services");

    /* A second listener started from an old id catches up from the table. */
    g_autoptr(TernDbListener) late = tern_db_listener_open(url, 0, 0, before, &error);
    g_assert_no_error(error);
    g_autoptr(GPtrArray) caught = NULL;
    g_assert_cmpint(tern_db_listener_read(late, &caught, &error), ==, 0);
    g_assert_cmpint(caught->len, >=, 3);
    for (guint k = 1; k < caught->len; k++)
        g_assert_cmpint(((TernDbChange *) caught->pdata[k])->id, >,
                        ((TernDbChange *) caught->pdata[k - 1])->id);
    g_assert_cmpint(tern_db_listener_last_id(late), ==, tern_db_listener_last_id(l) + 2);

    /* Pruning old changes, 25,000 of them a day old among them: all go
     * (statements of 10,000), the newest stays. */
    g_autoptr(PGresult) bulk = tern_db_exec(db,
        "INSERT INTO changes (tbl, key, op, created_at)"
        " SELECT 'compute_nodes', 'bulk' || i, 'UPDATE', now() - interval '1 day'"
        " FROM generate_series(1, 25000) i", 0, NULL, TERN_DB_EXEC_DEFAULT, &error);
    g_assert_no_error(error);
    guint deleted = 0;
    g_assert_cmpint(tern_db_changes_prune(db, g_get_real_time() - (gint64) 3600 * G_USEC_PER_SEC,
                                          &deleted, &error), ==, 0);
    g_assert_cmpint(deleted, ==, 25000);
    g_assert_cmpint(tern_db_changes_prune(db, g_get_real_time() + G_USEC_PER_SEC, &deleted,
                                          &error), ==, 0);
    g_assert_cmpint(deleted, >=, 3);
    g_clear_pointer(&since, g_ptr_array_unref);
    g_assert_cmpint(tern_db_changes_since(db, 0, 0, &since, &error), ==, 0);
    g_assert_cmpint(since->len, ==, 0);
}

/* Every change a listener delivers within timeout_ms. */
static GPtrArray *
read_all(TernDbListener *l, int timeout_ms)
{
    g_autoptr(GError) error = NULL;
    GPtrArray *all = g_ptr_array_new_with_free_func((GDestroyNotify) tern_db_change_free);
    gint64 end = g_get_monotonic_time() + timeout_ms * 1000;
    while (g_get_monotonic_time() < end) {
        g_autoptr(GPtrArray) got = NULL;
        g_assert_cmpint(tern_db_listener_wait(l, 50, &got, &error), ==, 0);
        g_assert_no_error(error);
        for (guint k = 0; k < got->len; k++)
            g_ptr_array_add(all, g_steal_pointer(&got->pdata[k]));
    }
    return all;
}

static gboolean
has_resync(GPtrArray *changes)
{
    for (guint k = 0; k < changes->len; k++)
        if (strcmp(((TernDbChange *) changes->pdata[k])->table, TERN_DB_CHANGE_RESYNC) == 0)
            return TRUE;
    return FALSE;
}

/* Cut every other connection to the test database (the listeners'). */
static void
cut_listeners(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PGresult) r = tern_db_exec(db,
        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()", 0, NULL,
        TERN_DB_EXEC_DEFAULT, &error);
    g_assert_no_error(error);
}

/* Changes a listener can no longer read (pruned before it caught up) come
 * as one resync change, first; a catch-up that lost nothing has none. */
static void
test_change_resync(void)
{
    if (tern_test_db_skip())
        return;
    g_autoptr(GError) error = NULL;
    add_host("gap1", 4, 4096, 40, 1.0);
    gint64 mark = 0;
    g_assert_cmpint(tern_db_changes_latest(db, &mark, &error), ==, 0);

    /* Opened from an id whose successors were pruned. */
    add_host("gap2", 4, 4096, 40, 1.0);
    guint deleted = 0;
    g_assert_cmpint(tern_db_changes_prune(db, g_get_real_time() + G_USEC_PER_SEC, &deleted,
                                          &error), ==, 0);
    g_assert_cmpint(deleted, >=, 2);
    g_autoptr(TernDbListener) late = tern_db_listener_open(url, 0, 0, mark, &error);
    g_assert_no_error(error);
    g_autoptr(GPtrArray) got = NULL;
    g_assert_cmpint(tern_db_listener_read(late, &got, &error), ==, 0);
    g_assert_cmpint(got->len, ==, 1);
    TernDbChange *c = got->pdata[0];
    g_assert_cmpstr(c->table, ==, TERN_DB_CHANGE_RESYNC);
    g_assert_cmpstr(c->op, ==, "RESYNC");
    g_assert_cmpint(c->id, ==, 0);
    g_clear_pointer(&late, tern_db_listener_close);

    /* Opened from the newest id of the emptied table: nothing lost. */
    g_assert_cmpint(tern_db_changes_latest(db, &mark, &error), ==, 0);
    g_assert_cmpint(mark, >, 0);   /* the sequence's, not max(id) of the empty table */
    late = tern_db_listener_open(url, 0, 0, mark, &error);
    g_assert_no_error(error);
    g_clear_pointer(&got, g_ptr_array_unref);
    g_assert_cmpint(tern_db_listener_read(late, &got, &error), ==, 0);
    g_assert_cmpint(got->len, ==, 0);

    /* A reconnect whose catch-up finds its changes: no resync. */
    g_autoptr(TernDbListener) l = tern_db_listener_open(url, 0, 0, -1, &error);
    g_assert_no_error(error);
    cut_listeners();
    add_host("gap3", 4, 4096, 40, 1.0);
    g_autoptr(GPtrArray) all = read_all(l, 500);
    g_assert_false(has_resync(all));
    gboolean gap3 = FALSE;
    for (guint k = 0; k < all->len; k++)
        gap3 = gap3 || strcmp(((TernDbChange *) all->pdata[k])->key, "gap3") == 0;
    g_assert_true(gap3);

    /* A reconnect after the changes made meanwhile were pruned: resync. */
    cut_listeners();
    add_host("gap4", 4, 4096, 40, 1.0);
    g_assert_cmpint(tern_db_changes_prune(db, g_get_real_time() + G_USEC_PER_SEC, &deleted,
                                          &error), ==, 0);
    g_clear_pointer(&all, g_ptr_array_unref);
    all = read_all(l, 500);
    g_assert_cmpint(all->len, >=, 1);
    g_assert_cmpstr(((TernDbChange *) all->pdata[0])->table, ==, TERN_DB_CHANGE_RESYNC);
}

/* The next compute_nodes change of host from the listener (1 s at most). */
static TernDbChange *
next_node_change(TernDbListener *l, const char *host)
{
    g_autoptr(GError) error = NULL;
    gint64 t0 = g_get_monotonic_time();
    while (g_get_monotonic_time() - t0 < G_USEC_PER_SEC) {
        g_autoptr(GPtrArray) got = NULL;
        g_assert_cmpint(tern_db_listener_wait(l, 100, &got, &error), ==, 0);
        for (guint k = 0; k < got->len; k++) {
            TernDbChange *c = got->pdata[k];
            if (strcmp(c->table, "compute_nodes") == 0 && strcmp(c->key, host) == 0)
                return g_steal_pointer(&got->pdata[k]);
        }
    }
    g_assert_not_reached();
    return NULL;
}

/* A claim's and a release's notifications carry the node's new usage and
 * generation (migration 004); a new report, disabling the node or a
 * hand-made usage UPDATE that leaves the generation do not, nor does a
 * change read back from the table. */
static void
test_change_usage(void)
{
    if (tern_test_db_skip())
        return;
    g_autoptr(GError) error = NULL;
    add_host("feedu", 8, 8192, 80, 1.0);
    gint64 before = 0;
    g_assert_cmpint(tern_db_changes_latest(db, &before, &error), ==, 0);
    g_autoptr(TernDbListener) l = tern_db_listener_open(url, 0, 0, -1, &error);
    g_assert_no_error(error);

    TernDbResources req = { 2, 1024, 10 };
    const char *consumer = "66666666-6666-4666-8666-666666666666";
    g_assert_cmpint(tern_db_claim(db, consumer, "feedu", &req, NULL, &error), ==, 0);
    g_autoptr(TernDbChange) claim = next_node_change(l, "feedu");
    g_autoptr(TernDbComputeNode) row = get_host("feedu");
    g_assert_true(claim->has_usage);
    g_assert_cmpint(claim->generation, ==, row->generation);
    g_assert_cmpint(claim->vcpus_used, ==, 2);
    g_assert_cmpint(claim->memory_mb_used, ==, 1024);
    g_assert_cmpint(claim->local_gb_used, ==, 10);

    g_assert_cmpint(tern_db_release(db, consumer, "feedu", NULL, &error), ==, 0);
    g_autoptr(TernDbChange) rel = next_node_change(l, "feedu");
    g_assert_true(rel->has_usage);
    g_assert_cmpint(rel->generation, ==, claim->generation + 1);
    g_assert_cmpint(rel->vcpus_used, ==, 0);
    g_assert_cmpint(rel->memory_mb_used, ==, 0);
    g_assert_cmpint(rel->local_gb_used, ==, 0);

    add_host("feedu", 16, 8192, 80, 1.0);   /* a new report: more vCPUs */
    g_autoptr(TernDbChange) report = next_node_change(l, "feedu");
    g_assert_false(report->has_usage);
    g_assert_cmpint(tern_db_compute_node_set_disabled(db, "feedu", TRUE, "maintenance", &error),
                    ==, 0);
    g_assert_no_error(error);
    g_autoptr(TernDbChange) disabled = next_node_change(l, "feedu");
    g_assert_false(disabled->has_usage);
    /* Usage changed by hand, generation left: read the row. */
    g_autoptr(PGresult) r = tern_db_exec(db, "UPDATE compute_nodes SET vcpus_used = 3"
                                         " WHERE host = 'feedu'", 0, NULL, 0, &error);
    g_assert_no_error(error);
    g_autoptr(TernDbChange) by_hand = next_node_change(l, "feedu");
    g_assert_false(by_hand->has_usage);

    g_autoptr(TernDbListener) late = tern_db_listener_open(url, 0, 0, before, &error);
    g_assert_no_error(error);
    g_autoptr(GPtrArray) caught = NULL;
    g_assert_cmpint(tern_db_listener_read(late, &caught, &error), ==, 0);
    g_assert_cmpint(caught->len, >=, 5);
    for (guint k = 0; k < caught->len; k++)
        g_assert_false(((TernDbChange *) caught->pdata[k])->has_usage);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    base_url = g_getenv("TERN_TEST_DB_URL");
    if (base_url && *base_url) {
        url = tern_test_db_create(base_url);
        g_autoptr(GError) error = NULL;
        db = tern_db_open(url, 0, 0, &error);
        g_assert_no_error(error);
        g_assert_cmpint(tern_db_schema_sync(db, NULL, NULL, &error), ==, 0);
    }
    g_test_add_func("/db/claims/claim-release", test_claim_release);
    g_test_add_func("/db/claims/move", test_move_claims);
    g_test_add_func("/db/changes/feed", test_change_feed);
    g_test_add_func("/db/changes/watch", test_change_watch);
    g_test_add_func("/db/changes/usage", test_change_usage);
    g_test_add_func("/db/changes/resync", test_change_resync);
    int rc = g_test_run();
    if (db) {
        tern_db_close(db);
        tern_test_db_drop(base_url, url);
        g_free(url);
    }
    return rc;
}
