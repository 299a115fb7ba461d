/* instances.h: the instances table (Nova's instance fields tern uses) and
 * instance faults. Instances are soft-deleted: destroy sets deleted and
 * deleted_at; reads skip deleted rows unless asked. */
#ifndef TERN_DB_INSTANCES_H
#define TERN_DB_INSTANCES_H

#include <glib.h>

typedef struct _TernDb TernDb;

typedef struct {
    gint64 id;
    char *uuid;
    char *display_name;
    char *hostname;
    char *project_id;
    char *user_id;
    char *host;               /* compute host (NULL until scheduled) */
    char *node;               /* hypervisor_hostname */
    char *vm_state;           /* Nova's vm_states: "building", "active", "stopped", "error"... */
    char *task_state;         /* Nova's task_states, NULL when idle */
    gint64 power_state;       /* Nova's power_state: 0 NOSTATE, 1 RUNNING, 4 SHUTDOWN... */
    char *flavor;             /* JSON: name, vcpus, memory_mb, root_gb, ephemeral_gb, extra_specs */
    gint64 vcpus, memory_mb, root_gb, ephemeral_gb;  /* copied from the flavor */
    char *image_ref;
    char *image_properties;   /* JSON object: hw_architecture, os_distro, hw_disk_bus... */
    char *arch;               /* guest arch (hw_architecture / hw_emulation_architecture) */
    char *guest_cpu;          /* JSON: the guest CPU it was booted with (NULL until booted) */
    char *availability_zone;
    char *metadata;           /* JSON object of user metadata */
    gint64 launched_at, terminated_at;
    gint64 created_at, updated_at, deleted_at;
    gboolean deleted;
} TernDbInstance;

TernDbInstance *tern_db_instance_new(void);
void tern_db_instance_free(TernDbInstance *inst);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernDbInstance, tern_db_instance_free)

/* Insert; inst->uuid may be NULL (a new one is generated). Fills id, uuid
 * and the times. An existing uuid is TERN_DB_ERROR_CONFLICT. */
int tern_db_instance_create(TernDb *db, TernDbInstance *inst, GError **error);
/* TERN_DB_ERROR_NOT_FOUND if absent (or deleted and !with_deleted). */
int tern_db_instance_get(TernDb *db, const char *uuid, gboolean with_deleted,
                         TernDbInstance **out, GError **error);
/* Live instances on a host (host NULL: all live instances), by created_at. */
int tern_db_instance_list(TernDb *db, const char *host, GPtrArray **out, GError **error);
/* Write every mutable field of inst (all but id, uuid, created_at, deleted*)
 * by uuid; fills updated_at. */
int tern_db_instance_save(TernDb *db, TernDbInstance *inst, GError **error);
/* Compare-and-set of the states (Nova's expected_task_state): when
 * check_expected, the row must have task_state == expected_task_state (NULL
 * = idle) or the call fails with TERN_DB_ERROR_CONFLICT and changes nothing.
 * vm_state NULL keeps it; task_state NULL sets it idle; power_state < 0
 * keeps it. */
int tern_db_instance_update_states(TernDb *db, const char *uuid, const char *vm_state,
                                   const char *task_state, gint64 power_state,
                                   gboolean check_expected, const char *expected_task_state,
                                   GError **error);
/* Set host and node (NULL clears them). */
int tern_db_instance_set_host(TernDb *db, const char *uuid, const char *host, const char *node,
                              GError **error);
/* Set the guest CPU (JSON) it was booted with, and launched_at = now. */
int tern_db_instance_set_launched(TernDb *db, const char *uuid, const char *guest_cpu_json,
                                  GError **error);
/* Soft delete (terminated_at, deleted_at = now). Deleting a deleted
 * instance is not an error. */
int tern_db_instance_destroy(TernDb *db, const char *uuid, GError **error);

/* --- Faults --------------------------------------------------------------- */
typedef struct {
    gint64 id;
    char *instance_uuid;
    gint64 code;              /* HTTP-like code, 500 for errors */
    char *message;
    char *details;            /* traceback or longer text, may be NULL */
    char *host;
    gint64 created_at;
} TernDbInstanceFault;

void tern_db_instance_fault_free(TernDbInstanceFault *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernDbInstanceFault, tern_db_instance_fault_free)
/* Record a fault; fills id and created_at. */
int tern_db_instance_fault_add(TernDb *db, TernDbInstanceFault *fault, GError **error);
/* Faults of an instance, newest first. */
int tern_db_instance_fault_list(TernDb *db, const char *instance_uuid, GPtrArray **out,
                                GError **error);

#endif
