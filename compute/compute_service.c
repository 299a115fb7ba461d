/* compute_service.c: what tern-compute does between start and stop:
 * config -> CPU database + host probe (libvirt, or host facts files on the
 * test driver) -> the guest CPU of [libvirt] cpu_mode / cpu_models /
 * cpu_model_extra_flags (a config the host cannot provide refuses the
 * start, naming what is missing) -> Nova's ComputeManager methods on
 * compute.<host> -> reports to the conductor (service_report every
 * report_interval, compute_node_report at start and every
 * node_report_interval) -> reconcile of libvirt's domains with the
 * conductor's instances, once the conductor answers. */
#include "compute/compute_service.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "compute/compute_error.h"
#include "compute/compute_manager.h"
#include "compute/host_probe.h"

typedef struct {
    TernComputeManager m;
    GThread *reporter;
    GMutex stop_lock;
    GCond stop_cond;
} TernComputeService;

static char *
conf_string(const TernConfig *conf, const char *section, const char *name)
{
    const char *v = tern_config_get_string(conf, section, name);
    return v && *v ? g_strdup(v) : NULL;
}

/* The host arch's CPU, and the guest CPU the [libvirt] options give on it. */
static int
setup_cpu(TernComputeManager *m, GError **error)
{
    m->cpu_db = tern_cpu_db_get(error);
    if (!m->cpu_db)
        return -1;
    if (tern_cpu_arch_from_name(m->facts->arch) == TERN_CPU_ARCH_NONE) {
        TERN_WARN(TERN_COMPUTE_LOG, "host arch %s: tern has no CPU rules for it; guests get the "
                  "hypervisor's default CPU", m->facts->arch);
        return 0;
    }
    const TernGuestFacts *g = tern_host_facts_find_guest(m->facts, m->facts->arch, m->virt_type);
    m->cpu_host = tern_cpu_host_from_xml(m->cpu_db, m->facts->capabilities_xml,
                                         g ? g->domcaps_xml : NULL, error);
    if (!m->cpu_host)
        return -1;
    const char *const *models = tern_config_get_list(m->conf, "libvirt", "cpu_models");
    const char *const *flags = tern_config_get_list(m->conf, "libvirt", "cpu_model_extra_flags");
    TernCpuConfig cfg = {
        .cpu_mode = tern_config_get_string(m->conf, "libvirt", "cpu_mode"),
        .cpu_models = models && models[0] ? models : NULL,
        .cpu_model_extra_flags = flags && flags[0] ? flags : NULL,
    };
    if (tern_cpu_validate_config(m->cpu_db, m->cpu_host, &cfg, error) < 0) {
        g_prefix_error(error, "[libvirt] cpu options: ");
        return -1;
    }
    m->guest_cpu = tern_cpu_guest_from_config(m->cpu_db, m->cpu_host, &cfg, NULL, error);
    if (!m->guest_cpu)
        return -1;
    m->guest_cpu_xml = tern_cpu_guest_xml(m->cpu_db, m->guest_cpu, error);
    if (!m->guest_cpu_xml && error && *error)
        return -1;
    TERN_INFO(TERN_COMPUTE_LOG, "guest CPU: %s %s", tern_cpu_mode_name(m->guest_cpu->mode),
              m->guest_cpu->model ? m->guest_cpu->model : "(hypervisor default)");
    return 0;
}

/* Reports and the start-up reconcile run here, not on the main loop: they
 * are RPC calls that wait for the conductor. */
static gpointer
reporter_main(gpointer data)
{
    TernComputeService *s = data;
    TernComputeManager *m = &s->m;
    gint64 interval = tern_config_get_int(m->conf, "DEFAULT", "report_interval");
    gint64 node_interval = tern_config_get_int(m->conf, "compute", "node_report_interval");
    gint64 next_node = 0;
    gboolean reconciled = FALSE;
    for (;;) {
        g_autoptr(GError) err = NULL;
        if (tern_conductor_service_report(m, &err) < 0)
            TERN_WARN(TERN_COMPUTE_LOG, "service_report: %s", err->message);
        g_clear_error(&err);
        gint64 now = g_get_monotonic_time();
        if (now >= next_node) {
            if (tern_compute_report_node(m, &err) < 0) {
                TERN_WARN(TERN_COMPUTE_LOG, "compute_node_report: %s", err->message);
                g_clear_error(&err);
            } else {
                next_node = now + node_interval * G_USEC_PER_SEC;
                if (reconciled)
                    tern_compute_remove_leftovers(m);
            }
        }
        if (!reconciled && !g_atomic_int_get(&m->stopping)) {
            if (tern_compute_reconcile(m, &err) < 0) {
                TERN_WARN(TERN_COMPUTE_LOG, "reconcile with the conductor: %s (retrying)",
                          err->message);
                g_clear_error(&err);
            } else {
                reconciled = TRUE;
            }
        }
        g_mutex_lock(&s->stop_lock);
        gint64 until = g_get_monotonic_time() + interval * G_USEC_PER_SEC;
        while (!m->stopping)
            if (!g_cond_wait_until(&s->stop_cond, &s->stop_lock, until))
                break;
        gboolean stop = m->stopping;
        g_mutex_unlock(&s->stop_lock);
        if (stop)
            return NULL;
    }
}

static void
event_work(gpointer data, gpointer user_data);

static int
service_start(TernService *svc, GError **error)
{
    TernComputeService *s = g_new0(TernComputeService, 1);
    TernComputeManager *m = &s->m;
    tern_service_set_data(svc, s);
    g_mutex_init(&s->stop_lock);
    g_cond_init(&s->stop_cond);
    g_mutex_init(&m->lock);
    g_mutex_init(&m->facts_lock);
    g_cond_init(&m->busy_cond);
    m->busy = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    m->migrating = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    m->outgoing = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    m->aborted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    m->settled = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    m->conf = tern_service_config(svc);
    m->host = g_strdup(tern_conf_host(m->conf));
    m->virt_type = g_strdup(tern_config_get_string(m->conf, "libvirt", "virt_type"));
    m->instances_path = g_strdup(tern_config_get_string(m->conf, "compute", "instances_path"));
    m->images_path = g_strdup(tern_config_get_string(m->conf, "compute", "images_path"));
    m->facts_dir = conf_string(m->conf, "libvirt", "host_facts_dir");
    m->migration_addr = conf_string(m->conf, "libvirt", "live_migration_inbound_addr");
    if (!m->migration_addr)
        m->migration_addr = g_strdup(m->host);
    if (g_mkdir_with_parents(m->instances_path, 0755) < 0) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_CONFIG,
                    "[compute] instances_path %s cannot be created: %s", m->instances_path,
                    g_strerror(errno));
        return -1;
    }

    g_autofree char *rules_path = conf_string(m->conf, "compute", "guest_os_rules");
    if (!rules_path)
        rules_path = tern_guest_os_rules_default_path();
    m->rules = tern_guest_os_rules_load(rules_path, error);
    if (!m->rules)
        return -1;

    m->events = g_thread_pool_new(event_work, m, 1, FALSE, NULL);
    g_autofree char *uri = tern_libvirt_uri_from_config(m->conf);
    m->lv = tern_libvirt_conn_open(uri, tern_compute_on_domain_event, tern_compute_on_conn_state,
                                   m, error);
    if (!m->lv)
        return -1;
    virConnectPtr conn = tern_compute_conn(m, error);
    if (!conn)
        return -1;
    TernHostProbeOptions opts = {
        .facts_dir = m->facts_dir,
        .instances_path = m->instances_path,
        .guest_endianness = tern_config_get_string(m->conf, "compute", "guest_endianness"),
    };
    int rc = tern_host_probe(conn, &opts, &m->facts, error);
    virConnectClose(conn);
    if (rc < 0)
        return -1;
    TERN_INFO(TERN_COMPUTE_LOG, "host %s: %s, %s %" G_GUINT64_FORMAT ", %u vCPUs, %" G_GUINT64_FORMAT
              " MiB%s", m->host, m->facts->arch, m->facts->hypervisor_type,
              m->facts->hypervisor_version, m->facts->vcpus, m->facts->memory_mb,
              m->facts->simulated ? " (simulated host facts)" : "");
    if (setup_cpu(m, error) < 0)
        return -1;

    m->transport = tern_rpc_transport_new(m->conf, error);
    if (!m->transport)
        return -1;
    m->client = tern_rpc_client_new(m->transport, error);
    if (!m->client)
        return -1;
    m->server = tern_rpc_server_new(m->transport, "compute", m->host, tern_compute_rpc_methods(),
                                    m, error);
    if (!m->server)
        return -1;
    TERN_INFO(TERN_COMPUTE_LOG, "serving compute.%s", m->host);
    s->reporter = g_thread_new("tern-reporter", reporter_main, s);
    return 0;
}

int
tern_compute_service_start(TernService *svc, GError **error)
{
    if (service_start(svc, error) < 0) {
        tern_compute_service_stop(svc);   /* what was set up is freed */
        return -1;
    }
    return 0;
}

void
tern_compute_service_stop(TernService *svc)
{
    TernComputeService *s = tern_service_get_data(svc);
    if (!s)
        return;
    TernComputeManager *m = &s->m;
    g_mutex_lock(&s->stop_lock);
    g_atomic_int_set(&m->stopping, TRUE);
    g_cond_broadcast(&s->stop_cond);
    g_mutex_unlock(&s->stop_lock);
    if (s->reporter)
        g_thread_join(s->reporter);
    g_clear_pointer(&m->server, tern_rpc_server_free);
    /* a live migration in flight keeps the guest safe only if it ends: wait for it */
    if (g_atomic_int_get(&m->live_jobs) > 0)
        TERN_INFO(TERN_COMPUTE_LOG, "waiting for %d live migration(s) to end",
                  g_atomic_int_get(&m->live_jobs));
    while (g_atomic_int_get(&m->live_jobs) > 0)
        g_usleep(100000);
    if (m->events)
        g_thread_pool_free(m->events, TRUE, TRUE);
    g_clear_pointer(&m->lv, tern_libvirt_conn_close);
    g_clear_pointer(&m->client, tern_rpc_client_free);
    g_clear_pointer(&m->transport, tern_rpc_transport_unref);
    g_clear_pointer(&m->facts, tern_host_facts_free);
    g_clear_pointer(&m->cpu_host, tern_cpu_host_free);
    g_clear_pointer(&m->guest_cpu, tern_cpu_free);
    g_clear_pointer(&m->rules, tern_guest_os_rules_free);
    g_clear_pointer(&m->unknown_domains, json_decref);
    g_hash_table_unref(m->busy);
    g_hash_table_unref(m->migrating);
    g_hash_table_unref(m->outgoing);
    g_hash_table_unref(m->aborted);
    g_hash_table_unref(m->settled);
    g_free(m->guest_cpu_xml);
    g_free(m->host);
    g_free(m->virt_type);
    g_free(m->instances_path);
    g_free(m->images_path);
    g_free(m->facts_dir);
    g_free(m->migration_addr);
    g_free(s);
    tern_service_set_data(svc, NULL);
}

static void
event_work(gpointer data, gpointer user_data)
{
    tern_compute_handle_event(user_data, data);
}
