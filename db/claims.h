/* claims.h: allocations of a host's resources to consumers (an instance, or
 * a migration during a move) and the atomic claims that make them.
 *
 * A claim is one statement: the host's used amounts grow only if, for each
 * resource, used + requested <= (total - reserved) * allocation_ratio, and
 * the allocation row is inserted in the same statement. Racing schedulers
 * (any number of processes and hosts) can never push a host past its
 * capacity. A claim is idempotent per (consumer, host): claiming again what
 * the consumer already holds there changes nothing and succeeds, so a claim
 * retried after a lost connection is never counted twice.
 *
 * Move claims (live migration, resize): while the migration runs, the
 * instance keeps its allocation on the source and the migration's uuid holds
 * the destination's (tern_db_move_claim). When it succeeds,
 * tern_db_move_confirm drops the source allocation and hands the
 * destination's to the instance, in one transaction; when it fails,
 * tern_db_move_revert drops the destination hold.
 *
 * Claims look only at capacity, not at disabled flags or CPU compatibility:
 * filtering hosts is the scheduler's job. */
#ifndef TERN_DB_CLAIMS_H
#define TERN_DB_CLAIMS_H

#include <glib.h>

typedef struct _TernDb TernDb;

typedef struct {
    gint64 vcpus;
    gint64 memory_mb;
    gint64 disk_gb;
} TernDbResources;

typedef struct {
    gint64 id;
    char *consumer_uuid;      /* instance or migration uuid */
    char *host;
    gint64 vcpus, memory_mb, disk_gb;
    gint64 created_at;
} TernDbAllocation;

void tern_db_allocation_free(TernDbAllocation *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernDbAllocation, tern_db_allocation_free)

/* Claim req on host for consumer_uuid. 0 on success; already_held (may be
 * NULL) tells whether the consumer held an allocation there already (then
 * nothing changed, whatever req says). -1 with TERN_DB_ERROR_NO_CAPACITY when
 * the host lacks room, TERN_DB_ERROR_NOT_FOUND for an unknown host,
 * TERN_DB_ERROR_INVALID for a malformed uuid or negative amounts. */
int tern_db_claim(TernDb *db, const char *consumer_uuid, const char *host,
                  const TernDbResources *req, gboolean *already_held, GError **error);
/* Release what consumer_uuid holds on host (NULL: on every host). Releasing
 * nothing is not an error; released (may be NULL) receives how many
 * allocations went. */
int tern_db_release(TernDb *db, const char *consumer_uuid, const char *host, guint *released,
                    GError **error);

/* Move claims. The destination hold: a claim for migration_uuid. */
int tern_db_move_claim(TernDb *db, const char *migration_uuid, const char *dest_host,
                       const TernDbResources *req, gboolean *already_held, GError **error);
/* The move succeeded: in one transaction, release instance_uuid's
 * allocation on source_host and give migration_uuid's allocations to
 * instance_uuid. Idempotent. */
int tern_db_move_confirm(TernDb *db, const char *migration_uuid, const char *instance_uuid,
                         const char *source_host, GError **error);
/* The move failed: release the destination hold. Idempotent. */
int tern_db_move_revert(TernDb *db, const char *migration_uuid, GError **error);

/* Allocations of a consumer (consumer_uuid non-NULL) or on a host (host
 * non-NULL), or both; ordered by host, consumer. */
int tern_db_allocation_list(TernDb *db, const char *consumer_uuid, const char *host,
                            GPtrArray **out, GError **error);

#endif
