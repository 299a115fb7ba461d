/* conductor_service.c: what tern-conductor does between start and stop: one
 * RPC server on topic `conductor` (server = [DEFAULT] host) answering
 * ComputeTaskAPI (compute_task), tern (writes for computes) and tern_admin
 * (the CLI), one RPC client for calls to the scheduler and computes, a
 * database connection per worker thread, and the recovery thread. */
#include "conductor_service.h"
#include "conductor.h"

#include <stdarg.h>

#include "common/log.h"

G_DEFINE_QUARK(tern-conductor-error-quark, tern_conductor_error)

static const TernConfig *db_conf;   /* for the per-thread connections */

static void
thread_db_close(gpointer db)
{
    tern_db_close(db);
}

static GPrivate thread_db = G_PRIVATE_INIT(thread_db_close);

TernDb *
tern_conductor_db(TernConductor *c, GError **error)
{
    TernDb *db = g_private_get(&thread_db);
    if (db)
        return db;
    db = tern_db_open_config(c->conf ? c->conf : db_conf, error);
    if (!db)
        return NULL;
    g_private_set(&thread_db, db);
    return db;
}

void
tern_conductor_remote_error(GError **error, const char *cls, json_t *kwargs, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (!kwargs)
        kwargs = json_object();
    if (!json_object_get(kwargs, "reason") && !json_object_get(kwargs, "message"))
        json_object_set_new(kwargs, "reason", json_string(msg));
    tern_rpc_error_set_remote(error, "nova.exception", cls, kwargs, "%s", msg);
}

/* The single table the server dispatches from: every part's entries. */
static TernRpcMethod *
methods_table(void)
{
    const TernRpcMethod *parts[] = {
        tern_conductor_build_methods, tern_conductor_migrate_methods,
        tern_conductor_compute_methods, tern_conductor_admin_methods, NULL,
    };
    GArray *a = g_array_new(TRUE, TRUE, sizeof(TernRpcMethod));
    for (guint i = 0; parts[i]; i++)
        for (const TernRpcMethod *m = parts[i]; m->method; m++)
            g_array_append_val(a, *m);
    return (TernRpcMethod *)g_array_free(a, FALSE);
}

static TernRpcMethod *methods;

static void
conductor_free(TernConductor *c)
{
    if (!c)
        return;
    tern_conductor_recovery_stop(c);
    if (c->server)
        tern_rpc_server_free(c->server);
    if (c->flows)
        g_thread_pool_free(c->flows, FALSE, TRUE);
    if (c->client)
        tern_rpc_client_free(c->client);
    if (c->transport)
        tern_rpc_transport_unref(c->transport);
    tern_conductor_build_flows_free(c);
    g_hash_table_unref(c->live_migrations);
    g_hash_table_unref(c->gates);
    tern_gates_free(c->feature_gates);
    g_hash_table_unref(c->unknown_domains);
    g_mutex_clear(&c->lock);
    g_free(c->host);
    g_free(c);
}

typedef struct {
    TernConductor *c;
    json_t *context;
    char *instance_uuid;
    json_t *image;
    json_t *request_spec;
} BuildJob;

static void
build_job_run(gpointer data, gpointer user_data)
{
    BuildJob *job = data;
    tern_conductor_build(job->c, job->context, job->instance_uuid, job->image,
                         job->request_spec, NULL);
    json_decref(job->context);
    json_decref(job->image);
    json_decref(job->request_spec);
    g_free(job->instance_uuid);
    g_free(job);
}

void
tern_conductor_build_async(TernConductor *c, json_t *context, const char *instance_uuid,
                           json_t *image, json_t *request_spec)
{
    BuildJob *job = g_new0(BuildJob, 1);
    job->c = c;
    job->context = context ? json_deep_copy(context) : tern_rpc_context_new(NULL, NULL, TRUE);
    job->instance_uuid = g_strdup(instance_uuid);
    job->image = image ? json_deep_copy(image) : NULL;
    job->request_spec = request_spec ? json_deep_copy(request_spec) : NULL;
    g_thread_pool_push(c->flows, job, NULL);
}

int
tern_conductor_service_start(TernService *svc, GError **error)
{
    const TernConfig *conf = tern_service_config(svc);
    TernConductor *c = g_new0(TernConductor, 1);
    c->conf = conf;
    db_conf = conf;
    g_mutex_init(&c->lock);
    c->builds = g_hash_table_new(g_str_hash, g_str_equal);
    c->live_migrations = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    c->gates = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify)json_decref);
    c->unknown_domains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify)json_decref);
    const char *host = tern_config_get_string(conf, "DEFAULT", "host");
    c->host = g_strdup(host && *host ? host : g_get_host_name());
    c->max_attempts = tern_config_get_int(conf, "scheduler", "max_attempts");
    c->rpc_timeout = tern_config_get_int(conf, "DEFAULT", "rpc_response_timeout");
    c->long_rpc_timeout = tern_config_get_int(conf, "DEFAULT", "long_rpc_timeout");
    c->service_down_time = tern_config_get_int(conf, "DEFAULT", "service_down_time");
    c->build_timeout = tern_config_get_int(conf, "conductor", "stuck_build_timeout");
    c->migration_timeout = tern_config_get_int(conf, "conductor", "stuck_migration_timeout");
    c->recovery_interval = tern_config_get_int(conf, "conductor", "recovery_interval");
    c->change_retention = tern_config_get_int(conf, "conductor", "change_feed_retention");

    if (tern_conductor_gates_load(c, conf, error) < 0) {
        conductor_free(c);
        return -1;
    }

    /* The database is opened per thread on first use (and the recovery
     * thread's first pass records this conductor's service row), so a
     * database that is still starting delays work, not the start. */
    c->transport = tern_rpc_transport_new(conf, error);
    if (!c->transport) {
        conductor_free(c);
        return -1;
    }
    c->client = tern_rpc_client_new(c->transport, error);
    if (!c->client) {
        conductor_free(c);
        return -1;
    }
    c->flows = g_thread_pool_new(build_job_run, NULL,
                                 (gint)tern_config_get_int(conf, "conductor", "workers"), FALSE,
                                 error);
    if (!c->flows) {
        conductor_free(c);
        return -1;
    }
    if (!methods)
        methods = methods_table();
    c->server = tern_rpc_server_new(c->transport, "conductor", c->host, methods, c, error);
    if (!c->server) {
        conductor_free(c);
        return -1;
    }
    if (tern_conductor_recovery_start(c, error) < 0) {
        conductor_free(c);
        return -1;
    }
    tern_service_set_data(svc, c);
    TERN_INFO("tern.conductor", "tern-conductor %s serving topic conductor (compute_task, tern, "
              "tern_admin); max_attempts %" G_GINT64_FORMAT ", recovery every %" G_GINT64_FORMAT " s",
              c->host, c->max_attempts, c->recovery_interval);
    return 0;
}

void
tern_conductor_service_stop(TernService *svc)
{
    TernConductor *c = tern_service_get_data(svc);
    tern_service_set_data(svc, NULL);
    conductor_free(c);
}
