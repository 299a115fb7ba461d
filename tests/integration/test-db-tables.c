/* test-db-tables.c: create, read, update and delete rows of every table
 * against a real PostgreSQL, with hostile strings that must be stored as
 * data (never as SQL), and malformed input refused with a clear error. */
#include <glib.h>
#include <string.h>

#include "db/db.h"
#include "tests/integration/db_fixture.h"

static const char *base_url;
static char *url;
static TernDb *db;

/* Strings that would break naive SQL or array quoting. */
#define EVIL_HOST "h'; DROP TABLE compute_nodes; --"
#define EVIL_FEATURE "a\"b,{c}\\d e"

static void
test_services(void)
{
    if (tern_test_db_skip())
        return;
    g_autoptr(GError) error = NULL;
    g_autoptr(TernDbService) s = NULL;
    g_assert_cmpint(tern_db_service_heartbeat(db, "tern-compute", "host1", "compute", 3, &s,
                                              &error), ==, 0);
    g_assert_no_error(error);
    g_assert_cmpint(s->report_count, ==, 1);
    g_assert_cmpstr(s->topic, ==, "compute");
    g_assert_cmpint(s->version, ==, 3);
    g_assert_true(tern_db_service_is_up(s, g_get_real_time(), 60));
    g_assert_false(tern_db_service_is_up(s, g_get_real_time() + 120 * G_USEC_PER_SEC, 60));
    gint64 first_seen = s->last_seen_up;
    g_clear_pointer(&s, tern_db_service_free);

    g_usleep(2000);
    g_assert_cmpint(tern_db_service_heartbeat(db, "tern-compute", "host1", "compute", 4, &s,
                                              &error), ==, 0);
    g_assert_cmpint(s->report_count, ==, 2);
    g_assert_cmpint(s->last_seen_up, >, first_seen);
    g_assert_cmpint(s->version, ==, 4);
    g_clear_pointer(&s, tern_db_service_free);

    g_assert_cmpint(tern_db_service_heartbeat(db, "tern-scheduler", EVIL_HOST, "scheduler", 1,
                                              NULL, &error), ==, 0);
    g_assert_cmpint(tern_db_service_set_disabled(db, "tern-compute", "host1", TRUE,
                                                 "maintenance: 'disk' swap", &error), ==, 0);
    g_assert_cmpint(tern_db_service_get(db, "tern-compute", "host1", &s, &error), ==, 0);
    g_assert_true(s->disabled);
    g_assert_cmpstr(s->disabled_reason, ==, "maintenance: 'disk' swap");
    g_clear_pointer(&s, tern_db_service_free);

    g_autoptr(GPtrArray) all = NULL;
    g_assert_cmpint(tern_db_service_list(db, NULL, &all, &error), ==, 0);
    g_assert_cmpint(all->len, ==, 2);
    g_assert_cmpstr(((TernDbService *) all->pdata[1])->host, ==, EVIL_HOST);
    g_autoptr(GPtrArray) computes = NULL;
    g_assert_cmpint(tern_db_service_list(db, "tern-compute", &computes, &error), ==, 0);
    g_assert_cmpint(computes->len, ==, 1);

    g_assert_cmpint(tern_db_service_set_disabled(db, "tern-compute", "host1", FALSE, "ignored",
                                                 &error), ==, 0);
    g_assert_cmpint(tern_db_service_set_forced_down(db, "tern-compute", "host1", TRUE, &error), ==, 0);
    g_assert_cmpint(tern_db_service_get(db, "tern-compute", "host1", &s, &error), ==, 0);
    g_assert_false(s->disabled);
    g_assert_null(s->disabled_reason);
    g_assert_true(s->forced_down);
    g_assert_false(tern_db_service_is_up(s, g_get_real_time(), 60));
    g_clear_pointer(&s, tern_db_service_free);

    g_assert_cmpint(tern_db_service_delete(db, "tern-scheduler", EVIL_HOST, &error), ==, 0);
    g_assert_cmpint(tern_db_service_get(db, "tern-scheduler", EVIL_HOST, &s, &error), ==, -1);
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_NOT_FOUND);
    g_clear_error(&error);
    g_assert_cmpint(tern_db_service_set_disabled(db, "tern-compute", "nohost", TRUE, NULL,
                                                 &error), ==, -1);
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_NOT_FOUND);
}

static TernDbComputeNode *
make_node(const char *host)
{
    TernDbComputeNode *n = tern_db_compute_node_new();
    n->host = g_strdup(host);
    n->hypervisor_hostname = g_strdup(host);
    n->hypervisor_type = g_strdup("QEMU");
    n->hypervisor_version = 10000000;
    n->arch = g_strdup("ppc64le");
    TernDbGuestType *t = g_new0(TernDbGuestType, 1);
    t->arch = g_strdup("ppc64le");
    t->hv_type = g_strdup("qemu");
    t->vm_mode = g_strdup("hvm");
    g_ptr_array_add(n->supported_instances, t);
    t = g_new0(TernDbGuestType, 1);
    t->arch = g_strdup("x86_64");
    t->hv_type = g_strdup("qemu");
    t->vm_mode = g_strdup("hvm");
    g_ptr_array_add(n->supported_instances, t);
    const char *mt[] = { "pseries-10.0", "pseries", NULL };
    n->machine_types = g_strdupv((char **) mt);
    n->cpu_info = g_strdup("{\"arch\": \"ppc64le\", \"model\": \"POWER9\", \"vendor\": \"IBM\"}");
    n->cpu_model = g_strdup("POWER9");
    const char *f[] = { "altivec", EVIL_FEATURE, "vsx", NULL };
    n->cpu_features = g_strdupv((char **) f);
    n->guest_cpu = g_strdup("{\"mode\": \"host-model\", \"compat\": \"power9\"}");
    n->guest_cpu_model = g_strdup("POWER9");
    const char *gf[] = { "altivec", NULL };
    n->guest_cpu_features = g_strdupv((char **) gf);
    n->vcpus = 16;
    n->memory_mb = 65536;
    n->local_gb = 500;
    n->reserved_memory_mb = 512;
    n->cpu_allocation_ratio = 4.0;
    n->ram_allocation_ratio = 1.5;
    return n;
}

static void
test_compute_nodes(void)
{
    if (tern_test_db_skip())
        return;
    g_autoptr(GError) error = NULL;
    g_autoptr(TernDbComputeNode) n = make_node(EVIL_HOST);
    g_assert_cmpint(tern_db_compute_node_update(db, n, &error), ==, 0);
    g_assert_no_error(error);
    g_assert_nonnull(n->uuid);
    g_assert_cmpint(n->id, >, 0);
    gint64 gen = n->generation;

    g_autoptr(TernDbComputeNode) got = NULL;
    g_assert_cmpint(tern_db_compute_node_get(db, EVIL_HOST, &got, &error), ==, 0);
    g_assert_cmpstr(got->host, ==, EVIL_HOST);
    g_assert_cmpstr(got->uuid, ==, n->uuid);
    g_assert_cmpstr(got->arch, ==, "ppc64le");
    g_assert_cmpint(got->hypervisor_version, ==, 10000000);
    g_assert_cmpint(got->supported_instances->len, ==, 2);
    TernDbGuestType *t = got->supported_instances->pdata[1];
    g_assert_cmpstr(t->arch, ==, "x86_64");
    g_assert_cmpstr(t->hv_type, ==, "qemu");
    g_assert_cmpstr(t->vm_mode, ==, "hvm");
    g_assert_cmpstrv(got->machine_types, n->machine_types);
    g_assert_cmpstrv(got->cpu_features, n->cpu_features);
    g_assert_cmpstrv(got->guest_cpu_features, n->guest_cpu_features);
    g_assert_nonnull(strstr(got->cpu_info, "\"POWER9\""));
    g_assert_cmpstr(got->cpu_model, ==, "POWER9");
    g_assert_cmpint(got->vcpus, ==, 16);
    g_assert_cmpint(got->reserved_memory_mb, ==, 512);
    g_assert_cmpfloat(got->cpu_allocation_ratio, ==, 4.0);
    g_assert_cmpfloat(got->disk_allocation_ratio, ==, 1.0);
    g_assert_cmpint(tern_db_compute_node_vcpus_capacity(got), ==, 64);
    g_assert_cmpint(tern_db_compute_node_memory_capacity(got), ==, (65536 - 512) * 3 / 2);
    g_assert_cmpint(tern_db_compute_node_disk_capacity(got), ==, 500);
    g_assert_cmpint(got->vcpus_used, ==, 0);
    g_assert_cmpint(got->updated_at, >, 0);

    /* The same report again changes nothing, not even the generation. */
    g_assert_cmpint(tern_db_compute_node_update(db, n, &error), ==, 0);
    g_assert_cmpint(n->generation, ==, gen);
    /* A different one bumps it and is stored. */
    n->memory_mb = 131072;
    g_assert_cmpint(tern_db_compute_node_update(db, n, &error), ==, 0);
    g_assert_cmpint(n->generation, ==, gen + 1);
    g_clear_pointer(&got, tern_db_compute_node_free);
    g_assert_cmpint(tern_db_compute_node_get(db, EVIL_HOST, &got, &error), ==, 0);
    g_assert_cmpint(got->memory_mb, ==, 131072);

    /* A second host; the listing is ordered by host. */
    g_autoptr(TernDbComputeNode) x = make_node("alpha");
    g_assert_cmpint(tern_db_compute_node_update(db, x, &error), ==, 0);
    g_autoptr(GPtrArray) all = NULL;
    g_assert_cmpint(tern_db_compute_node_list(db, &all, &error), ==, 0);
    g_assert_cmpint(all->len, ==, 2);
    g_assert_cmpstr(((TernDbComputeNode *) all->pdata[0])->host, ==, "alpha");

    g_assert_cmpint(tern_db_compute_node_set_disabled(db, "alpha", TRUE, "broken fan", &error), ==, 0);
    g_clear_pointer(&got, tern_db_compute_node_free);
    g_assert_cmpint(tern_db_compute_node_get(db, "alpha", &got, &error), ==, 0);
    g_assert_true(got->disabled);
    g_assert_cmpstr(got->disabled_reason, ==, "broken fan");

    /* Bad JSON is refused, not stored. */
    g_free(x->cpu_info);
    x->cpu_info = g_strdup("{not json");
    g_assert_cmpint(tern_db_compute_node_update(db, x, &error), ==, -1);
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "SQLSTATE 22P02"));
    g_clear_error(&error);

    /* A host holding allocations cannot be deleted; once released it can. */
    TernDbResources req = { 1, 512, 1 };
    const char *consumer = "6a1a4d8e-2c1e-4b53-9d7e-1c2f9a0b7c11";
    g_assert_cmpint(tern_db_claim(db, consumer, "alpha", &req, NULL, &error), ==, 0);
    g_assert_cmpint(tern_db_compute_node_delete(db, "alpha", &error), ==, -1);
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_CONFLICT);
    g_clear_error(&error);
    g_assert_cmpint(tern_db_release(db, consumer, NULL, NULL, &error), ==, 0);
    g_assert_cmpint(tern_db_compute_node_delete(db, "alpha", &error), ==, 0);
    g_assert_cmpint(tern_db_compute_node_get(db, "alpha", &got, &error), ==, -1);
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_NOT_FOUND);
    g_clear_error(&error);

    /* Host names are bounded (255, as in Nova). */
    g_autofree char *long_name = g_strnfill(300, 'h');
    g_autoptr(TernDbComputeNode) huge = make_node(long_name);
    g_assert_cmpint(tern_db_compute_node_update(db, huge, &error), ==, -1);
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_cmpint(tern_db_service_heartbeat(db, "tern-compute", long_name, "compute", 1, NULL,
                                              &error), ==, -1);
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_INVALID);
    g_clear_error(&error);

    /* The table survived the hostile host name. */
    g_autoptr(PGresult) r = tern_db_exec(db, "SELECT count(*) FROM compute_nodes", 0, NULL, 0,
                                         &error);
    g_assert_cmpint(tern_db_get_int(r, 0, 0), ==, 1);
}

static void
test_instances(void)
{
    if (tern_test_db_skip())
        return;
    g_autoptr(GError) error = NULL;
    g_autoptr(TernDbInstance) i = tern_db_instance_new();
    i->display_name = g_strdup("vm 'one'");
    i->project_id = g_strdup("p1");
    i->flavor = g_strdup("{\"name\": \"m1.small\", \"vcpus\": 1, \"memory_mb\": 2048}");
    i->vcpus = 1;
    i->memory_mb = 2048;
    i->root_gb = 20;
    i->image_properties = g_strdup("{\"hw_architecture\": \"ppc64le\", \"os_distro\": \"debian12\"}");
    i->arch = g_strdup("ppc64le");
    i->metadata = g_strdup("{\"k\": \"v'; --\"}");
    g_assert_cmpint(tern_db_instance_create(db, i, &error), ==, 0);
    g_assert_no_error(error);
    g_assert_nonnull(i->uuid);
    g_assert_cmpint(i->created_at, >, 0);

    g_autoptr(TernDbInstance) got = NULL;
    g_assert_cmpint(tern_db_instance_get(db, i->uuid, FALSE, &got, &error), ==, 0);
    g_assert_cmpstr(got->display_name, ==, "vm 'one'");
    g_assert_cmpstr(got->vm_state, ==, "building");
    g_assert_null(got->task_state);
    g_assert_null(got->host);
    g_assert_cmpint(got->memory_mb, ==, 2048);
    g_assert_nonnull(strstr(got->image_properties, "\"debian12\""));
    g_assert_nonnull(strstr(got->metadata, "v'; --"));
    g_clear_pointer(&got, tern_db_instance_free);

    /* The same uuid twice is a conflict. */
    g_autoptr(TernDbInstance) dup = tern_db_instance_new();
    dup->uuid = g_strdup(i->uuid);
    g_assert_cmpint(tern_db_instance_create(db, dup, &error), ==, -1);
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_CONFLICT);
    g_clear_error(&error);

    /* Scheduling, states with Nova's expected_task_state. */
    g_assert_cmpint(tern_db_instance_update_states(db, i->uuid, NULL, "scheduling", -1, TRUE,
                                                   NULL, &error), ==, 0);
    g_assert_cmpint(tern_db_instance_update_states(db, i->uuid, NULL, "spawning", -1, TRUE,
                                                   "networking", &error), ==, -1);
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_CONFLICT);
    g_assert_nonnull(strstr(error->message, "found scheduling"));
    g_clear_error(&error);
    g_assert_cmpint(tern_db_instance_set_host(db, i->uuid, "host1", "host1.example", &error), ==, 0);
    g_assert_cmpint(tern_db_instance_update_states(db, i->uuid, "active", NULL, 1, TRUE,
                                                   "scheduling", &error), ==, 0);
    g_assert_cmpint(tern_db_instance_set_launched(db, i->uuid,
                                                  "{\"model\": \"POWER9\", \"compat\": \"power9\"}",
                                                  &error), ==, 0);
    g_assert_cmpint(tern_db_instance_get(db, i->uuid, FALSE, &got, &error), ==, 0);
    g_assert_cmpstr(got->vm_state, ==, "active");
    g_assert_null(got->task_state);
    g_assert_cmpint(got->power_state, ==, 1);
    g_assert_cmpstr(got->host, ==, "host1");
    g_assert_cmpstr(got->node, ==, "host1.example");
    g_assert_nonnull(strstr(got->guest_cpu, "power9"));
    g_assert_cmpint(got->launched_at, >, 0);

    /* Save writes every mutable field. */
    g_free(got->display_name);
    got->display_name = g_strdup("renamed");
    got->ephemeral_gb = 5;
    g_assert_cmpint(tern_db_instance_save(db, got, &error), ==, 0);
    g_autoptr(TernDbInstance) again = NULL;
    g_assert_cmpint(tern_db_instance_get(db, i->uuid, FALSE, &again, &error), ==, 0);
    g_assert_cmpstr(again->display_name, ==, "renamed");
    g_assert_cmpint(again->ephemeral_gb, ==, 5);
    g_assert_cmpint(again->launched_at, ==, got->launched_at);

    g_autoptr(GPtrArray) on_host = NULL;
    g_assert_cmpint(tern_db_instance_list(db, "host1", &on_host, &error), ==, 0);
    g_assert_cmpint(on_host->len, ==, 1);

    /* Faults. */
    TernDbInstanceFault f = { .instance_uuid = i->uuid, .code = 500,
                              .message = "libvirt said no", .details = "trace\nback",
                              .host = "host1" };
    g_assert_cmpint(tern_db_instance_fault_add(db, &f, &error), ==, 0);
    g_assert_cmpint(f.id, >, 0);
    g_autoptr(GPtrArray) faults = NULL;
    g_assert_cmpint(tern_db_instance_fault_list(db, i->uuid, &faults, &error), ==, 0);
    g_assert_cmpint(faults->len, ==, 1);
    g_assert_cmpstr(((TernDbInstanceFault *) faults->pdata[0])->details, ==, "trace\nback");
    /* A fault for an unknown instance is refused. */
    TernDbInstanceFault bad = { .instance_uuid = "00000000-0000-0000-0000-000000000000",
                                .code = 500, .message = "x" };
    g_assert_cmpint(tern_db_instance_fault_add(db, &bad, &error), ==, -1);
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_INVALID);
    g_clear_error(&error);

    /* Soft delete. */
    g_assert_cmpint(tern_db_instance_destroy(db, i->uuid, &error), ==, 0);
    g_assert_cmpint(tern_db_instance_destroy(db, i->uuid, &error), ==, 0);
    g_clear_pointer(&got, tern_db_instance_free);
    g_assert_cmpint(tern_db_instance_get(db, i->uuid, FALSE, &got, &error), ==, -1);
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_NOT_FOUND);
    g_clear_error(&error);
    g_assert_cmpint(tern_db_instance_get(db, i->uuid, TRUE, &got, &error), ==, 0);
    g_assert_true(got->deleted);
    g_assert_cmpint(got->deleted_at, >, 0);
    g_clear_pointer(&on_host, g_ptr_array_unref);
    g_assert_cmpint(tern_db_instance_list(db, "host1", &on_host, &error), ==, 0);
    g_assert_cmpint(on_host->len, ==, 0);

    /* A malformed uuid is a clear error, not SQL. */
    g_clear_pointer(&got, tern_db_instance_free);
    g_assert_cmpint(tern_db_instance_get(db, "1' OR '1'='1", TRUE, &got, &error), ==, -1);
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "uuid"));
}

static void
test_migrations(void)
{
    if (tern_test_db_skip())
        return;
    g_autoptr(GError) error = NULL;
    g_autoptr(TernDbMigration) m = tern_db_migration_new();
    m->instance_uuid = g_strdup("0f4e7c5e-8d5b-4c7a-9a1e-3b2d1c0e9f88");
    m->source_compute = g_strdup("src");
    m->dest_compute = g_strdup("dst");
    g_assert_cmpint(tern_db_migration_create(db, m, &error), ==, 0);
    g_assert_no_error(error);
    g_assert_nonnull(m->uuid);

    g_assert_cmpstr(m->status, ==, "accepted");

    g_autoptr(GPtrArray) running = NULL;
    g_assert_cmpint(tern_db_migration_list_in_progress(db, "dst", &running, &error), ==, 0);
    g_assert_cmpint(running->len, ==, 1);
    g_clear_pointer(&running, g_ptr_array_unref);
    g_assert_cmpint(tern_db_migration_list_in_progress(db, "elsewhere", &running, &error), ==, 0);
    g_assert_cmpint(running->len, ==, 0);
    g_clear_pointer(&running, g_ptr_array_unref);

    g_assert_cmpint(tern_db_migration_set_status(db, m->uuid, "running", NULL, &error), ==, 0);
    g_assert_cmpint(tern_db_migration_set_progress(db, m->uuid, 40, 1000, 400, 600, &error), ==, 0);
    g_assert_cmpint(tern_db_migration_set_progress(db, m->uuid, 50, -1, -1, -1, &error), ==, 0);
    g_autoptr(TernDbMigration) got = NULL;
    g_assert_cmpint(tern_db_migration_get(db, m->uuid, &got, &error), ==, 0);
    g_assert_cmpstr(got->status, ==, "running");
    g_assert_cmpint(got->progress, ==, 50);
    g_assert_cmpint(got->memory_total, ==, 1000);
    g_assert_cmpint(got->memory_processed, ==, 400);
    g_assert_cmpstr(got->migration_type, ==, "live-migration");
    g_assert_cmpstr(got->source_compute, ==, "src");

    /* Progress is a percentage: 150 is refused by the schema. */
    g_assert_cmpint(tern_db_migration_set_progress(db, m->uuid, 150, -1, -1, -1, &error), ==, -1);
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_INVALID);
    g_clear_error(&error);

    g_free(got->dest_node);
    got->dest_node = g_strdup("dst.example");
    g_assert_cmpint(tern_db_migration_save(db, got, &error), ==, 0);
    g_assert_cmpint(tern_db_migration_set_status(db, m->uuid, "failed", "target CPU lacks vsx",
                                                 &error), ==, 0);
    g_clear_pointer(&got, tern_db_migration_free);
    g_assert_cmpint(tern_db_migration_get(db, m->uuid, &got, &error), ==, 0);
    g_assert_cmpstr(got->dest_node, ==, "dst.example");
    g_assert_cmpstr(got->error, ==, "target CPU lacks vsx");
    g_assert_cmpint(tern_db_migration_list_in_progress(db, NULL, &running, &error), ==, 0);
    g_assert_cmpint(running->len, ==, 0);

    g_autoptr(TernDbMigration) m2 = tern_db_migration_new();
    m2->instance_uuid = g_strdup(m->instance_uuid);
    g_assert_cmpint(tern_db_migration_create(db, m2, &error), ==, 0);
    g_autoptr(GPtrArray) of_inst = NULL;
    g_assert_cmpint(tern_db_migration_list_by_instance(db, m->instance_uuid, &of_inst, &error), ==, 0);
    g_assert_cmpint(of_inst->len, ==, 2);
    g_assert_cmpstr(((TernDbMigration *) of_inst->pdata[0])->uuid, ==, m2->uuid);

    g_assert_cmpint(tern_db_migration_get(db, "a4b1c2d3-0000-4000-8000-000000000000", &got, &error), ==, -1);
    g_assert_error(error, TERN_DB_ERROR, TERN_DB_ERROR_NOT_FOUND);
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
    g_test_add_func("/db/tables/services", test_services);
    g_test_add_func("/db/tables/compute-nodes", test_compute_nodes);
    g_test_add_func("/db/tables/instances", test_instances);
    g_test_add_func("/db/tables/migrations", test_migrations);
    int rc = g_test_run();
    if (db) {
        tern_db_close(db);
        tern_test_db_drop(base_url, url);
        g_free(url);
    }
    return rc;
}
