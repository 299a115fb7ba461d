/* conductor.h: tern-conductor's shared state and the functions its parts
 * (build flow, live-migration flow, writes for computes, admin queries,
 * recovery) offer one another. Private to conductor/. */
#ifndef TERN_CONDUCTOR_H
#define TERN_CONDUCTOR_H

#include <glib.h>
#include <jansson.h>

#include "common/config.h"
#include "db/db.h"
#include "rpc/rpc.h"
#include "rpc/object.h"
#include "fleet/gates.h"

#define TERN_CONDUCTOR_ERROR (tern_conductor_error_quark())
GQuark tern_conductor_error_quark(void);
typedef enum {
    TERN_CONDUCTOR_ERROR_INVALID,     /* a request with missing or malformed arguments */
    TERN_CONDUCTOR_ERROR_STATE,       /* the instance or migration is not in a state that allows it */
    TERN_CONDUCTOR_ERROR_FAILED,      /* a flow step failed (reason in the message) */
} TernConductorErrorCode;

typedef struct _TernConductor TernConductor;

struct _TernConductor {
    const TernConfig *conf;         /* borrowed from the service */
    char *host;                     /* [DEFAULT] host */
    TernRpcTransport *transport;
    TernRpcClient *client;          /* calls to the scheduler and computes */
    TernRpcServer *server;          /* topic conductor */
    GThreadPool *flows;             /* build flows started by a call that must not wait */
    gint64 max_attempts;            /* [scheduler] max_attempts */
    gint64 rpc_timeout;             /* [DEFAULT] rpc_response_timeout */
    gint64 long_rpc_timeout;        /* [DEFAULT] long_rpc_timeout */
    gint64 service_down_time;       /* [DEFAULT] service_down_time */
    gint64 build_timeout;           /* [conductor] stuck_build_timeout */
    gint64 migration_timeout;       /* [conductor] stuck_migration_timeout */
    gint64 recovery_interval;       /* [conductor] recovery_interval */
    gint64 change_retention;        /* [conductor] change_feed_retention, hours (0: keep) */

    GMutex lock;                    /* guards the tables below */
    GHashTable *builds;             /* instance uuid -> TernBuildFlow* (flows of this process) */
    GHashTable *live_migrations;    /* migration uuid -> itself (flows of this process) */
    GHashTable *gates;              /* host -> json gates of its last report */
    TernGates *feature_gates;       /* [feature_gates] file, overrides; NULL: none */
    GHashTable *unknown_domains;    /* host -> json list of domains no instance owns */

    GThread *recovery_thread;
    GMutex recovery_lock;
    GCond recovery_cond;
    gboolean stopping;
};

/* The calling thread's database connection (opened on first use, closed
 * when the thread ends). NULL with error if the database cannot be reached. */
TernDb *tern_conductor_db(TernConductor *c, GError **error);

/* Answer a failure as the Nova exception nova.exception.<cls> with kwargs
 * (stolen, may be NULL); the message is error's. Converts a GError of
 * another domain: DB not-found / conflict become InstanceNotFound-like
 * classes given by the caller. */
void tern_conductor_remote_error(GError **error, const char *cls, json_t *kwargs,
                                 const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* --- views (conductor/views.c) ------------------------------------------- */
/* Plain JSON of an instance for tern methods (uuid, name, host, states...). */
json_t *tern_conductor_instance_json(const TernDbInstance *inst);
/* Nova's Instance object primitive for computes. */
json_t *tern_conductor_instance_primitive(const TernDbInstance *inst);
/* Plain JSON of a migration. */
json_t *tern_conductor_migration_json(const TernDbMigration *m);
/* The migration uuid from this process's database connection; -1 with
 * Nova's MigrationNotFound (a remote error for the caller) when it is not
 * there, or the database error. */
int tern_conductor_migration_lookup(TernConductor *c, const char *uuid, TernDbMigration **out,
                                    GError **error);
/* Nova's Migration object primitive. */
json_t *tern_conductor_migration_primitive(const TernDbMigration *m);
/* Nova's Flavor primitive from the instance's flavor JSON. */
json_t *tern_conductor_flavor_primitive(const TernDbInstance *inst);
/* A nova_object primitive of class name (tern's version of it) with data (stolen). */
json_t *tern_conductor_nova_object(const char *name, json_t *data);
/* The image dict computes get (id, properties...) from the instance's record. */
json_t *tern_conductor_image_dict(const TernDbInstance *inst);
/* A RequestSpec primitive for the instance from its record. ignore_hosts
 * (may be NULL) and hints (stolen, may be NULL) are added. */
json_t *tern_conductor_request_spec(const TernDbInstance *inst, const char *const *ignore_hosts,
                                    const char *force_host, json_t *hints);
/* Resources an instance takes on a host. */
void tern_conductor_instance_resources(const TernDbInstance *inst, TernDbResources *out);
/* Parse a JSON text (NULL or invalid: an empty object). */
json_t *tern_conductor_json_parse(const char *text);

/* --- build flow (conductor/build_task.c) ----------------------------------- */
extern const TernRpcMethod tern_conductor_build_methods[];
/* Record instances from Nova Instance primitives (or reuse an existing
 * record of the same uuid) and return the record. */
int tern_conductor_record_instance(TernConductor *c, TernDb *db, json_t *instance_prim,
                                   json_t *flavor_prim, json_t *image, TernDbInstance **out,
                                   GError **error);
/* Run the build flow for a recorded instance (scheduling, cast, retries):
 * returns when the build was cast to a compute or the instance went to
 * ERROR. image / request_spec (borrowed, may be NULL: built from the record)
 * and extra build args (requested_networks..., borrowed, may be NULL). */
void tern_conductor_build(TernConductor *c, json_t *context, const char *instance_uuid,
                          json_t *image, json_t *request_spec, json_t *extra);
/* The same on the conductor's flow pool (returns at once). */
void tern_conductor_build_async(TernConductor *c, json_t *context, const char *instance_uuid,
                                json_t *image, json_t *request_spec);
/* A compute reported that the build failed on host. */
void tern_conductor_build_failed(TernConductor *c, json_t *context, const char *instance_uuid,
                                 const char *host, const char *reason, gboolean retryable);
/* The instance left BUILDING (active or error): forget its flow. */
void tern_conductor_build_done(TernConductor *c, const char *instance_uuid);
/* Is a build flow of this process running for the instance? */
gboolean tern_conductor_build_is_live(TernConductor *c, const char *instance_uuid);
gboolean tern_conductor_build_is_handed(TernConductor *c, const char *instance_uuid);
/* Set an instance to ERROR with a fault (code 500). */
void tern_conductor_instance_error(TernConductor *c, TernDb *db, const char *instance_uuid,
                                   const char *host, const char *message, const char *details);
void tern_conductor_build_flows_free(TernConductor *c);

/* --- live migration (conductor/live_migrate_task.c) ------------------------- */
extern const TernRpcMethod tern_conductor_migrate_methods[];
/* Start a live migration of instance_uuid to target_host (NULL: the
 * scheduler chooses). Returns the migration (status preparing: the source
 * was told to migrate) or NULL with a remote error
 * (MigrationPreCheckError, NoValidHost, InstanceInvalidState...) when it
 * was refused before anything moved. */
TernDbMigration *tern_conductor_live_migrate(TernConductor *c, json_t *context,
                                             const char *instance_uuid, const char *target_host,
                                             json_t *block_migration, json_t *request_spec,
                                             GError **error);
/* Can dest_host take the instance (arch, CPU, machine type)? Capacity is
 * checked by the move claim. -1 with the reason otherwise. */
int tern_conductor_check_host_for_instance(TernConductor *c, TernDb *db,
                                           const TernDbInstance *inst,
                                           const TernDbComputeNode *dest, GError **error);
/* A migration reached a final status: move or restore the claims and the
 * instance's host and task state. Idempotent. */
int tern_conductor_migration_finish(TernConductor *c, TernDb *db, TernDbMigration *m,
                                    GError **error);
gboolean tern_conductor_migration_is_live(TernConductor *c, const char *migration_uuid);

/* --- feature gates (conductor/fleet_gates.c) --------------------------------- */
/* Load [feature_gates] file and overrides (the default file may be absent:
 * a warning, no gates; a file named otherwise must load). */
int tern_conductor_gates_load(TernConductor *c, const TernConfig *conf, GError **error);
/* "kvm" when the host offers (arch, kvm) in supported_instances, else "qemu". */
const char *tern_conductor_virt_type(const TernDbComputeNode *n, const char *arch);
/* Is operation allowed for a guest of arch (NULL: the host's) on host n?
 * -1 with TERN_GATES_ERROR_DENIED naming the gate, its reason and the override. */
int tern_conductor_gates_check(TernConductor *c, const TernDbComputeNode *n, const char *arch,
                               const char *operation, GError **error);
/* live_migration allowed on the instance's source host and on dest (may be
 * NULL)? -1 with MigrationPreCheckError (remote) naming the host and gate. */
int tern_conductor_gates_check_migration(TernConductor *c, TernDb *db,
                                         const TernDbInstance *inst, const char *dest,
                                         GError **error);
/* May the instance be built on host: its image's disk buses (hw_disk_bus,
 * hw_cdrom_bus) and the display tern gives domains? -1 with the gate's
 * message (TERN_GATES_ERROR_DENIED) otherwise. */
int tern_conductor_gates_check_build(TernConductor *c, TernDb *db, const TernDbInstance *inst,
                                     const char *host, GError **error);
/* The host's gates for `tern host show`: one line per denial (refused, or
 * allowed by an override) per guest arch it offers, then "allowed" lines. */
json_t *tern_conductor_gates_json(TernConductor *c, const TernDbComputeNode *n);

/* --- claims with the guest's rules (conductor/fleet_claims.c) ------------------ */
/* Claim host for the instance (a build's alternate): its endianness rule
 * and, when request_spec (may be NULL) names a server group, the group's
 * hard policy under the group's lock (tern_db_group_claim). */
int tern_conductor_claim(TernConductor *c, TernDb *db, const TernDbInstance *inst,
                         json_t *request_spec, const char *host, GError **error);
/* The destination hold of a live migration: endianness and the instance's
 * server group policy, atomically (tern_db_group_move_claim). */
int tern_conductor_move_claim(TernConductor *c, TernDb *db, const TernDbInstance *inst,
                              const char *migration_uuid, const char *host, GError **error);

/* --- writes for computes (conductor/compute_writes.c) ----------------------- */
extern const TernRpcMethod tern_conductor_compute_methods[];

/* --- admin (conductor/admin.c) ----------------------------------------------- */
extern const TernRpcMethod tern_conductor_admin_methods[];

/* --- recovery (conductor/recovery.c) ------------------------------------------ */
/* One pass over stuck builds and migrations. */
void tern_conductor_recover(TernConductor *c);
int tern_conductor_recovery_start(TernConductor *c, GError **error);
void tern_conductor_recovery_stop(TernConductor *c);

#endif
