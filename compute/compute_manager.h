/* compute_manager.h: the state of a running tern-compute daemon and the
 * pieces that share it: the RPC handlers (Nova's ComputeManager methods,
 * rpc_handlers.c, manager_*.c, live_migration.c), the reports to the
 * conductor (inventory_report.c, conductor_api.c) and the reconcile of
 * libvirt's domains with the conductor's instances (manager_reconcile.c).
 *
 * The conductor speaks tern's own namespace for what Nova does through
 * object indirection (docs/tern-rpc.md): instance_update, instance_fault_create,
 * instance_build_failed, instances_on_host, migration_update, service_report,
 * compute_node_report. */
#ifndef TERN_COMPUTE_MANAGER_H
#define TERN_COMPUTE_MANAGER_H

#include <glib.h>
#include <jansson.h>
#include <libvirt/libvirt.h>

#include "common/config.h"
#include "fleet/guest_os_rules.h"
#include "compute/host_facts.h"
#include "compute/libvirt_conn.h"
#include "cpu/cpu.h"
#include "rpc/rpc.h"

#define TERN_COMPUTE_LOG "tern.compute"

typedef struct {
    const TernConfig *conf;         /* borrowed from the service */
    char *host;                     /* [DEFAULT] host */
    char *virt_type;                /* [libvirt] virt_type */
    char *instances_path;
    char *images_path;
    char *facts_dir;                /* [libvirt] host_facts_dir or NULL */
    char *migration_addr;           /* live_migration_inbound_addr or host */

    TernLibvirtConn *lv;
    GMutex facts_lock;              /* facts can be re-probed after a reconnect */
    TernHostFacts *facts;
    const TernCpuDb *cpu_db;
    TernCpuHost *cpu_host;          /* the host arch's CPU (+ domcaps) */
    TernCpu *guest_cpu;             /* the guest CPU of [libvirt] cpu_* for the host arch */
    char *guest_cpu_xml;            /* its <cpu> element, NULL for mode none */
    TernGuestOsRules *rules;

    TernRpcTransport *transport;
    TernRpcClient *client;          /* one per process (rpc.h) */
    TernRpcServer *server;

    GMutex lock;                    /* guards busy */
    GCond busy_cond;
    GHashTable *busy;               /* instance uuids a handler is working on */
    GHashTable *migrating;          /* instance uuids in a live migration (events ignored) */
    GHashTable *outgoing;           /* instance uuid -> migration uuid: live migrations this
                                     * host runs as the source (abort / force-complete) */
    GHashTable *aborted;            /* instance uuids whose outgoing migration was aborted */
    GHashTable *settled;            /* uuid -> gint64*: when a handler last finished with it */
    json_t *unknown_domains;        /* domains no instance owns (reported, never destroyed) */
    GThreadPool *events;            /* lifecycle events -> instance_update, one at a time */
    gint live_jobs;                 /* live migrations running on threads of their own */
    guint report_timer;
    guint node_timer;
    gboolean stopping;
} TernComputeManager;

/* ---- conductor_api.c: tern's namespace on topic conductor (docs/tern-rpc.md) ---- */

/* ctx may be NULL (a fresh admin context is made). Each returns what the
 * conductor answered (call) or 0/-1 (cast). */
json_t *tern_conductor_instance_update(TernComputeManager *m, json_t *ctx, const char *uuid,
                                       json_t *updates, gboolean expect_no_task,
                                       GError **error);
int tern_conductor_instance_fault(TernComputeManager *m, json_t *ctx, const char *uuid,
                                  int code, const char *message, const char *details);
int tern_conductor_build_failed(TernComputeManager *m, json_t *ctx, const char *uuid,
                                const char *reason, gboolean retryable);
json_t *tern_conductor_instances_on_host(TernComputeManager *m, GError **error);
json_t *tern_conductor_migration_update(TernComputeManager *m, json_t *ctx,
                                        const char *migration_uuid, json_t *updates,
                                        GError **error);
int tern_conductor_service_report(TernComputeManager *m, GError **error);
json_t *tern_conductor_compute_node_report(TernComputeManager *m, json_t *node, GError **error);

/* ---- inventory_report.c ---- */

/* The `node` object of compute_node_report from the probed facts. */
json_t *tern_compute_node_json(TernComputeManager *m, GError **error);
/* Probe again and send compute_node_report; 0 / -1. */
int tern_compute_report_node(TernComputeManager *m, GError **error);

/* ---- compute_manager.c: per-instance serialisation, helpers ---- */

/* Wait until no other handler works on uuid, then mark it busy. */
void tern_compute_instance_lock(TernComputeManager *m, const char *uuid);
void tern_compute_instance_unlock(TernComputeManager *m, const char *uuid);
gboolean tern_compute_instance_is_busy(TernComputeManager *m, const char *uuid);
/* A live libvirt connection (virConnectClose it) or NULL + error. */
virConnectPtr tern_compute_conn(TernComputeManager *m, GError **error);
/* The guest CPU object of docs/tern-rpc.md ({"arch","mode","model","features","xml"})
 * for a CPU, or for the <cpu> of a running domain's XML. */
json_t *tern_compute_cpu_json(TernComputeManager *m, const TernCpu *cpu, const char *xml);
json_t *tern_compute_domain_cpu_json(TernComputeManager *m, virDomainPtr dom, const char *arch);
/* The versioned machine type of a defined domain (NULL if unknown). */
char *tern_compute_domain_machine(virDomainPtr dom);
/* A value of the defined domain's XML by XPath from <domain> (NULL if none). */
char *tern_compute_domain_value(virDomainPtr dom, const char *expr);
/* The instance uuid of a Nova Instance primitive in args[field], or NULL + error. */
const char *tern_compute_arg_uuid(json_t *args, const char *field, GError **error);
/* Nova's ISO 8601 time now. */
char *tern_compute_now_iso(void);

/* ---- manager_reconcile.c ---- */

/* Compare libvirt's domains with instances_on_host: unknown domains are
 * reported (logged, never destroyed), power states corrected. */
void tern_compute_remove_leftovers(TernComputeManager *m);
int tern_compute_reconcile(TernComputeManager *m, GError **error);
/* The libvirt lifecycle callback (TernDomainEventFunc). */
void tern_compute_on_domain_event(const char *uuid, const char *name, int event, int detail,
                                  int power_state, gpointer user_data);
void tern_compute_on_conn_state(gboolean connected, gpointer user_data);
/* A queued lifecycle event (TernComputeEvent*, freed here), on the events pool. */
typedef struct {
    char *uuid;
    int power_state;
    int event;
} TernComputeEvent;
void tern_compute_handle_event(TernComputeManager *m, TernComputeEvent *ev);

/* ---- handlers (manager_build.c, manager_power.c, live_migration.c) ---- */

json_t *tern_compute_build_and_run_instance(TernComputeManager *m, const TernRpcRequest *req,
                                            GError **error);
json_t *tern_compute_start_instance(TernComputeManager *m, const TernRpcRequest *req,
                                    GError **error);
json_t *tern_compute_stop_instance(TernComputeManager *m, const TernRpcRequest *req,
                                   GError **error);
json_t *tern_compute_reboot_instance(TernComputeManager *m, const TernRpcRequest *req,
                                     GError **error);
json_t *tern_compute_terminate_instance(TernComputeManager *m, const TernRpcRequest *req,
                                        GError **error);
json_t *tern_compute_check_can_live_migrate_destination(TernComputeManager *m,
                                                        const TernRpcRequest *req, GError **error);
json_t *tern_compute_check_can_live_migrate_source(TernComputeManager *m,
                                                   const TernRpcRequest *req, GError **error);
json_t *tern_compute_pre_live_migration(TernComputeManager *m, const TernRpcRequest *req,
                                        GError **error);
json_t *tern_compute_live_migration(TernComputeManager *m, const TernRpcRequest *req,
                                    GError **error);
json_t *tern_compute_post_live_migration_at_destination(TernComputeManager *m,
                                                        const TernRpcRequest *req, GError **error);
json_t *tern_compute_rollback_live_migration_at_destination(TernComputeManager *m,
                                                            const TernRpcRequest *req,
                                                            GError **error);
json_t *tern_compute_live_migration_abort(TernComputeManager *m, const TernRpcRequest *req,
                                          GError **error);
json_t *tern_compute_live_migration_force_complete(TernComputeManager *m,
                                                   const TernRpcRequest *req, GError **error);

/* ---- rpc_handlers.c ---- */

/* The method table served on topic compute. */
const TernRpcMethod *tern_compute_rpc_methods(void);

#endif
