/* server_groups.h: Nova's server groups (policies affinity, anti-affinity,
 * soft-affinity, soft-anti-affinity) as the scheduler enforces them: the
 * members and their hosts, and a claim made under the group's rule.
 *
 * tern_db_group_claim runs in one transaction: the group's row is locked
 * (SELECT ... FOR UPDATE, created on first use), the hard policy is checked
 * against the members' hosts, the host is claimed (tern_db_claim_guest)
 * and the member recorded. Claims for one group are thereby serialised
 * across any number of schedulers: two members of an anti-affinity group
 * never land on one host, the members of an affinity group never on two.
 * Soft policies record members only (weighers read them). */
#ifndef TERN_DB_SERVER_GROUPS_H
#define TERN_DB_SERVER_GROUPS_H

#include <glib.h>

typedef struct _TernDb TernDb;

/* Nova's policy names; NULL if name is none of them. */
const char *tern_db_group_policy_canonical(const char *name);

/* Claim req on host for consumer_uuid as a member of group_uuid (policy:
 * Nova's name; the group's recorded policy wins when it already exists).
 * -1 with TERN_DB_ERROR_GROUP_RULE when the policy forbids the host (the
 * message names the group, the policy and the member hosts), else as
 * tern_db_claim_guest. */
int tern_db_group_claim(TernDb *db, const char *group_uuid, const char *policy,
                        const char *consumer_uuid, const char *host,
                        const TernDbResources *req, const TernDbGuestRules *guest,
                        gboolean *already_held, GError **error);

/* The move claim (tern_db_move_claim_guest: consumer migration_uuid,
 * destination host) of a live migration of instance_uuid under its server
 * group's hard policy, when the instance is a member of a group: in one
 * transaction the group's row is locked, the policy checked against the
 * hosts of the other members and the destinations of their moves in flight
 * (the allocations of their migrations), then the claim made. So two
 * members of an anti-affinity group moved at once to one host cannot both
 * get there, whoever chose the host. -1 with TERN_DB_ERROR_GROUP_RULE when
 * the policy forbids the host; not a member: a plain move claim. The
 * membership itself follows at confirmation (tern_db_group_member_move). */
int tern_db_group_move_claim(TernDb *db, const char *instance_uuid, const char *migration_uuid,
                             const char *host, const TernDbResources *req,
                             const TernDbGuestRules *guest, gboolean *already_held,
                             GError **error);

/* The group's recorded policy (NULL, no error, for an unknown group) and
 * its members' hosts: host -> number of members there (hosts_out may be
 * NULL). */
int tern_db_group_get(TernDb *db, const char *group_uuid, char **policy_out,
                      GHashTable **hosts_out, GError **error);

/* Forget consumer_uuid's membership on host (NULL: any host): the claim was
 * released, the instance deleted. Nothing to forget is not an error. */
int tern_db_group_member_remove(TernDb *db, const char *consumer_uuid, const char *host,
                                GError **error);
/* The member moved (live migration confirmed): record its new host. */
int tern_db_group_member_move(TernDb *db, const char *consumer_uuid, const char *host,
                              GError **error);

#endif
