/* scheduler_service.c: what tern-scheduler does between start and stop:
 * load the host cache and keep it current (sched_sync.c), and answer Nova's
 * select_destinations (topic "scheduler", version 4.5, no namespace) with
 * the core of sched_select.c, claiming through db/claims.h. */
#include "scheduler_service.h"

#include <string.h>

#include "common/log.h"
#include "cpu/cpu.h"
#include "db/db.h"
#include "rpc/rpc.h"
#include "scheduler/sched_cache.h"
#include "scheduler/sched_error.h"
#include "scheduler/sched_select.h"
#include "scheduler/sched_selection.h"
#include "scheduler/sched_sync.h"

typedef struct {
    TernSchedCache *cache;
    TernSchedSync *sync;
    TernSchedPolicy policy;
    GPtrArray *filters;
    char *db_url;
    char *default_az;
    gboolean single_guest_endianness;   /* [filter_scheduler] single_guest_endianness */
    TernGates *gates;                   /* [feature_gates] file, overrides; may be NULL */
    /* GuestOSArchFilter: osinfo-db + [compute] guest_os_rules, loaded at the
     * first request that names a guest OS (reading osinfo-db takes a
     * noticeable time; a scheduler that never sees os_distro never pays
     * it). The overrides file is checked at start. */
    gboolean os_filter;                 /* GuestOSArchFilter is enabled */
    char *os_rules_path;
    GMutex os_rules_lock;
    TernGuestOsRules *os_rules;
    char *os_rules_error;               /* the load failed: why */
    TernRpcTransport *transport;
    TernRpcServer *server;
    guint connect_source;
    int attempts;
} Scheduler;

/* One database connection per RPC worker thread. */
static GPrivate thread_db = G_PRIVATE_INIT((GDestroyNotify) tern_db_close);

static TernDb *
worker_db(Scheduler *s, GError **error)
{
    TernDb *db = g_private_get(&thread_db);
    if (!db) {
        if (!(db = tern_db_open(s->db_url, 3, 1, error)))
            return NULL;
        g_private_set(&thread_db, db);
    }
    return db;
}

static int
claim_cb(const char *consumer, gboolean move, const char *host, const TernSchedRequest *r,
         gpointer data, GError **error)
{
    TernDb *db = worker_db(data, error);
    if (!db)
        return -1;
    Scheduler *s = data;
    TernDbResources res = { r->vcpus, r->memory_mb, r->disk_gb };
    /* POWER guests carry their byte order into the claim (docs/fleet.md §4). */
    TernDbGuestRules guest = {
        .endianness = r->arch == TERN_CPU_ARCH_PPC64 ? "big"
                    : r->arch == TERN_CPU_ARCH_PPC64LE ? "little" : NULL,
        .single_endianness = s->single_guest_endianness,
    };
    /* A move of a server group's member is checked against where the
     * other members are and where they are moving, under the group's lock
     * (the filter saw only where they are); a move is rare enough for the
     * transaction. */
    if (move && r->instance_uuid && g_uuid_string_is_valid(r->instance_uuid))
        return tern_db_group_move_claim(db, r->instance_uuid, consumer, host, &res, &guest, NULL,
                                        error);
    if (move)
        return tern_db_move_claim_guest(db, consumer, host, &res, &guest, NULL, error);
    if (r->group_uuid && r->group_policy)   /* checked under the group's row lock */
        return tern_db_group_claim(db, r->group_uuid, r->group_policy, consumer, host, &res,
                                   &guest, NULL, error);
    return tern_db_claim_guest(db, consumer, host, &res, &guest, NULL, error);
}

static void
release_cb(const char *consumer, gboolean move, const char *host, gpointer data)
{
    g_autoptr(GError) err = NULL;
    TernDb *db = worker_db(data, &err);
    /* Only what this call claimed: the consumer's allocation on that host
     * (for a move claim, the migration's hold on the destination). */
    if (db && tern_db_release(db, consumer, host, NULL, &err) == 0 &&
        (move || tern_db_group_member_remove(db, consumer, host, &err) == 0))
        return;
    TERN_WARN("tern.scheduler", "could not release the claim of %s on %s: %s", consumer, host,
              err ? err->message : "unknown error");
}

static void
no_valid_host(GError **error, const char *reason)
{
    tern_rpc_error_set_remote(error, "nova.exception", "NoValidHost",
                              json_pack("{ss}", "reason", reason),
                              "No valid host was found. %s", reason);
}

/* A live migration: tern's conductor says so in the hints; a Nova
 * conductor does not, but always puts the source in ignore_hosts (its live
 * migration task's attempted hosts), so a request that ignores hosts for an
 * instance that already has a host is one. A request that ignores none is a
 * build: no database lookup on its path. */
static int
resolve_move(Scheduler *s, TernSchedRequest *r, GError **error)
{
    if (!r->instance_uuid ||
        (!r->hint_live_move && !(r->ignore_hosts && r->ignore_hosts[0])))
        return 0;
    TernDb *db = worker_db(s, error);
    if (!db)
        return -1;
    g_autoptr(TernDbInstance) inst = NULL;
    g_autoptr(GError) err = NULL;
    if (tern_db_instance_get(db, r->instance_uuid, FALSE, &inst, &err) < 0) {
        if (g_error_matches(err, TERN_DB_ERROR, TERN_DB_ERROR_NOT_FOUND) ||
            g_error_matches(err, TERN_DB_ERROR, TERN_DB_ERROR_INVALID)) {
            if (r->hint_live_move) {
                g_set_error(error, TERN_SCHED_ERROR, TERN_SCHED_ERROR_INVALID,
                            "live migration of instance %s, which is not in the database",
                            r->instance_uuid);
                return -1;
            }
            return 0;   /* a new instance the caller did not record */
        }
        g_propagate_error(error, g_steal_pointer(&err));
        return -1;
    }
    if (!r->hint_live_move && !inst->host)
        return 0;
    return tern_sched_request_set_move(r, s->policy.cpudb, inst, r->hint_migration_uuid, error);
}

/* The server group's policy and members from the database (docs/fleet.md
 * §5): the members placed by any scheduler, merged with the request's
 * InstanceGroup.hosts. */
static int
resolve_group(Scheduler *s, TernSchedRequest *r, GError **error)
{
    if (!r->group_uuid)
        return 0;
    TernDb *db = worker_db(s, error);
    if (!db)
        return -1;
    g_autofree char *policy = NULL;
    g_autoptr(GHashTable) hosts = NULL;
    g_autoptr(GError) err = NULL;
    if (tern_db_group_get(db, r->group_uuid, &policy, &hosts, &err) < 0) {
        if (g_error_matches(err, TERN_DB_ERROR, TERN_DB_ERROR_INVALID)) {
            g_set_error(error, TERN_SCHED_ERROR, TERN_SCHED_ERROR_INVALID,
                        "server group '%s' is not a uuid", r->group_uuid);
            return -1;
        }
        g_propagate_error(error, g_steal_pointer(&err));
        return -1;
    }
    if (policy) {   /* the recorded policy wins: it is what claims check */
        g_free(r->group_policy);
        r->group_policy = g_steal_pointer(&policy);
    }
    if (!r->group_policy) {
        g_set_error(error, TERN_SCHED_ERROR, TERN_SCHED_ERROR_INVALID,
                    "server group %s is unknown and the request gives no policy", r->group_uuid);
        return -1;
    }
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, hosts);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        guint known = r->group_hosts ? GPOINTER_TO_UINT(g_hash_table_lookup(r->group_hosts, k)) : 0;
        if (GPOINTER_TO_UINT(v) > known)
            tern_sched_request_group_add_host(r, k, GPOINTER_TO_UINT(v) - known);
    }
    return 0;
}

/* [feature_gates]: the default file may be absent, a file named must load;
 * an override naming no gate is a configuration error. */
static int
load_gates(Scheduler *s, const TernConfig *conf, GError **error)
{
    const char *path = tern_config_get_string(conf, "feature_gates", "file");
    if (!path || !*path)
        return 0;
    g_autoptr(GError) err = NULL;
    s->gates = tern_gates_load_file(path, &err);
    if (!s->gates) {
        if (g_error_matches(err, TERN_GATES_ERROR, TERN_GATES_ERROR_FILE) &&
            strcmp(path, "/etc/tern/feature-gates.ini") == 0) {
            TERN_WARN("tern.scheduler", "no feature gates: %s", err->message);
            return 0;
        }
        g_set_error(error, TERN_SCHED_ERROR, TERN_SCHED_ERROR_CONFIG, "[feature_gates] file: %s",
                    err->message);
        return -1;
    }
    if (tern_gates_set_overrides(s->gates,
                                 tern_config_get_list(conf, "feature_gates", "overrides"),
                                 &err) < 0) {
        g_set_error(error, TERN_SCHED_ERROR, TERN_SCHED_ERROR_CONFIG, "%s", err->message);
        return -1;
    }
    return 0;
}

/* The guest OS rules, loaded once (NULL + why if they cannot be). */
static TernGuestOsRules *
guest_os_rules(Scheduler *s, char **why)
{
    g_mutex_lock(&s->os_rules_lock);
    if (!s->os_rules && !s->os_rules_error) {
        g_autoptr(GError) err = NULL;
        gint64 t0 = g_get_monotonic_time();
        s->os_rules = tern_guest_os_rules_load(s->os_rules_path, &err);
        if (s->os_rules)
            TERN_INFO("tern.scheduler", "guest OS rules loaded (osinfo-db and %s) in %.0f ms",
                      s->os_rules_path, (double) (g_get_monotonic_time() - t0) / 1000.0);
        else
            TERN_ERROR("tern.scheduler", "GuestOSArchFilter: %s", err->message);
        if (!s->os_rules)
            s->os_rules_error = g_strdup_printf("GuestOSArchFilter: the guest OS rules cannot be "
                                                "loaded: %s", err->message);
    }
    TernGuestOsRules *r = s->os_rules;
    if (!r)
        *why = g_strdup(s->os_rules_error);
    g_mutex_unlock(&s->os_rules_lock);
    return r;
}

static json_t *
select_destinations(const TernRpcRequest *req, gpointer user_data, GError **error)
{
    Scheduler *s = user_data;
    json_t *spec_json = json_object_get(req->args, "spec_obj");
    if (!spec_json) {
        tern_rpc_error_set_remote(error, "nova.exception", "NoValidHost",
                                  json_pack("{ss}", "reason", "no spec_obj (legacy request_spec "
                                            "dicts are not supported)"),
                                  "No valid host was found. no spec_obj");
        return NULL;
    }
    g_autoptr(GError) err = NULL;
    g_autoptr(TernObject) spec = tern_object_from_primitive(spec_json, "RequestSpec", &err);
    g_autoptr(TernSchedRequest) r = spec ? tern_sched_request_from_spec(s->policy.cpudb, spec,
                                                                        &err) : NULL;
    if (r) {
        r->gates = s->gates;
        if (s->os_filter && r->os_distro && *r->os_distro) {
            g_autofree char *why = NULL;
            TernGuestOsRules *rules = guest_os_rules(s, &why);
            if (!rules) {
                no_valid_host(error, why);
                return NULL;
            }
            tern_sched_request_set_guest_os(r, rules);
        }
    }
    if (!r || resolve_move(s, r, &err) < 0 || resolve_group(s, r, &err) < 0) {
        if (err->domain == TERN_DB_ERROR) {
            g_propagate_error(error, g_steal_pointer(&err));
            return NULL;
        }
        no_valid_host(error, err->message);
        return NULL;
    }
    json_t *uuids_j = json_object_get(req->args, "instance_uuids");
    g_autoptr(GPtrArray) uuids = g_ptr_array_new();
    size_t i;
    json_t *v;
    json_array_foreach(uuids_j, i, v) {
        if (json_is_string(v))
            g_ptr_array_add(uuids, (gpointer) json_string_value(v));
    }
    gboolean return_objects = json_is_true(json_object_get(req->args, "return_objects"));
    gboolean return_alternates = json_is_true(json_object_get(req->args, "return_alternates"));

    g_autoptr(GPtrArray) result = NULL;
    if (tern_sched_select(s->cache, &s->policy, r, (const char *const *) uuids->pdata, uuids->len,
                          return_alternates, &result, &err) < 0) {
        if (g_error_matches(err, TERN_SCHED_ERROR, TERN_SCHED_ERROR_NO_VALID_HOST)) {
            TERN_INFO("tern.scheduler", "no valid host for %s: %s",
                      r->instance_uuid ? r->instance_uuid : "request", err->message);
            no_valid_host(error, err->message);
        } else {
            g_propagate_error(error, g_steal_pointer(&err));
        }
        return NULL;
    }
    if (result->len) {
        const TernSchedPick *p = ((GPtrArray *) result->pdata[0])->pdata[0];
        TERN_DEBUG("tern.scheduler", "%s%s -> %s", r->is_move ? "live migration of " : "",
                   uuids->len ? (const char *) uuids->pdata[0] : "request", p->host);
    }
    return tern_sched_selections_to_json(result, return_objects, s->default_az);
}

static const TernRpcMethod methods[] = {
    { NULL, "select_destinations", "4.5", select_destinations },
    { NULL, NULL, NULL, NULL },
};

static void
scheduler_free(Scheduler *s)
{
    if (!s)
        return;
    tern_rpc_server_free(s->server);
    if (s->transport)
        tern_rpc_transport_unref(s->transport);
    tern_sched_sync_free(s->sync);
    tern_sched_cache_free(s->cache);
    if (s->filters)
        g_ptr_array_unref(s->filters);
    g_free(s->db_url);
    g_free(s->default_az);
    tern_gates_free(s->gates);
    tern_guest_os_rules_free(s->os_rules);
    g_free(s->os_rules_path);
    g_free(s->os_rules_error);
    g_mutex_clear(&s->os_rules_lock);
    g_free(s);
}

/* Connecting to PostgreSQL and RabbitMQ runs from the main loop, one attempt
 * per [database] retry_interval, so that SIGTERM is honoured while the
 * services are not there yet. */
static gboolean
connect_step(gpointer data)
{
    TernService *svc = data;
    Scheduler *s = tern_service_get_data(svc);
    TernConfig *conf = tern_service_config(svc);
    int max_retries = (int) tern_config_get_int(conf, "database", "max_retries");
    int interval = (int) tern_config_get_int(conf, "database", "retry_interval");
    g_autoptr(GError) err = NULL;
    s->connect_source = 0;

    if (!s->sync) {
        s->sync = tern_sched_sync_new(s->cache, s->policy.cpudb, s->db_url, 0, 0, &err);
        if (s->sync) {
            guint ms = (guint) CLAMP(s->policy.down_time * 1000 / 12, 1000, 5000);
            tern_sched_sync_attach(s->sync, g_main_loop_get_context(tern_service_loop(svc)), ms);
        }
    }
    if (s->sync && !s->server) {
        const char *host = tern_config_get_string(conf, "DEFAULT", "host");
        s->server = tern_rpc_server_new(s->transport, "scheduler", host ? host : g_get_host_name(),
                                        methods, s, &err);
        if (s->server)
            TERN_INFO("tern.scheduler", "serving select_destinations on topic scheduler "
                      "(server %s), %u hosts cached", host ? host : g_get_host_name(),
                      tern_sched_cache_size(s->cache));
    }
    if (s->server)
        return G_SOURCE_REMOVE;
    s->attempts++;
    if (max_retries >= 0 && s->attempts > max_retries) {
        TERN_ERROR("tern.scheduler", "giving up after %d attempts: %s", s->attempts,
                   err->message);
        tern_service_quit(svc, 1);
        return G_SOURCE_REMOVE;
    }
    TERN_WARN("tern.scheduler", "%s; retrying in %d s", err->message, interval);
    s->connect_source = g_timeout_add_seconds((guint) MAX(interval, 1), connect_step, svc);
    return G_SOURCE_REMOVE;
}

int
tern_scheduler_service_start(TernService *svc, GError **error)
{
    TernConfig *conf = tern_service_config(svc);
    Scheduler *s = g_new0(Scheduler, 1);
    g_mutex_init(&s->os_rules_lock);
    tern_service_set_data(svc, s);

    const TernCpuDb *cpudb = tern_cpu_db_get(error);
    if (!cpudb)
        return -1;
    const char *url = tern_config_get_string(conf, "database", "connection");
    if (!url) {
        g_set_error(error, TERN_SCHED_ERROR, TERN_SCHED_ERROR_CONFIG,
                    "[database] connection is not set: tern-scheduler reads hosts from it");
        return -1;
    }
    s->db_url = g_strdup(url);
    s->default_az = g_strdup(tern_config_get_string(conf, "DEFAULT", "default_availability_zone"));
    s->single_guest_endianness =
        tern_config_get_bool(conf, "filter_scheduler", "single_guest_endianness");
    if (load_gates(s, conf, error) < 0)
        return -1;
    /* GuestOSArchFilter: the same rules as the computes use; the overrides
     * file must read now, osinfo-db is read at the first request naming a
     * guest OS. */
    const char *rules_opt = tern_config_get_string(conf, "compute", "guest_os_rules");
    s->os_rules_path = rules_opt && *rules_opt ? g_strdup(rules_opt)
                                               : tern_guest_os_rules_default_path();
    g_autoptr(GKeyFile) rules_kf = g_key_file_new();
    g_autoptr(GError) rules_err = NULL;
    if (!g_key_file_load_from_file(rules_kf, s->os_rules_path, G_KEY_FILE_NONE, &rules_err)) {
        g_set_error(error, TERN_SCHED_ERROR, TERN_SCHED_ERROR_CONFIG,
                    "[compute] guest_os_rules: cannot read guest OS rules %s: %s",
                    s->os_rules_path, rules_err->message);
        return -1;
    }
    if (!(s->filters = tern_sched_filters_from_names(
              tern_config_get_list(conf, "filter_scheduler", "enabled_filters"), error)))
        return -1;
    s->os_filter = g_ptr_array_find(s->filters, tern_sched_filter_find("GuestOSArchFilter"), NULL);
    s->policy = (TernSchedPolicy) {
        .filters = s->filters,
        .mult = { tern_config_get_float(conf, "filter_scheduler", "ram_weight_multiplier"),
                  tern_config_get_float(conf, "filter_scheduler", "cpu_weight_multiplier"),
                  tern_config_get_float(conf, "filter_scheduler", "disk_weight_multiplier"),
                  tern_config_get_float(conf, "filter_scheduler",
                                        "soft_affinity_weight_multiplier"),
                  tern_config_get_float(conf, "filter_scheduler",
                                        "soft_anti_affinity_weight_multiplier") },
        .host_subset_size = (int) tern_config_get_int(conf, "filter_scheduler", "host_subset_size"),
        .max_attempts = (int) tern_config_get_int(conf, "scheduler", "max_attempts"),
        .down_time = (int) tern_config_get_int(conf, "DEFAULT", "service_down_time"),
        .default_az = s->default_az,
        .cpudb = cpudb,
        .claim = claim_cb,
        .release = release_cb,
        .claim_data = s,
    };
    s->cache = tern_sched_cache_new();
    if (!(s->transport = tern_rpc_transport_new(conf, error)))
        return -1;
    s->connect_source = g_idle_add(connect_step, svc);
    return 0;
}

void
tern_scheduler_service_stop(TernService *svc)
{
    Scheduler *s = tern_service_get_data(svc);
    tern_service_set_data(svc, NULL);
    if (s && s->connect_source)
        g_source_remove(s->connect_source);
    scheduler_free(s);
}
