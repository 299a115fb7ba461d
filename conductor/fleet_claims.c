/* fleet_claims.c: the claims the conductor makes itself (a build's
 * alternate host, a live migration's destination, forced or chosen) with
 * the rules the scheduler's claims carry (docs/fleet.md §4, §5): the
 * guest's endianness ([filter_scheduler] single_guest_endianness, the
 * PowerKVM rule) and the server group's hard policy, both checked inside
 * the claim's transaction so racing requests cannot both break them. */
#include "conductor.h"

#include "common/log.h"

static TernDbGuestRules
guest_rules(TernConductor *c, const TernDbInstance *inst)
{
    TernDbGuestRules g = {
        .endianness = g_strcmp0(inst->arch, "ppc64") == 0 ? "big"
                    : g_strcmp0(inst->arch, "ppc64le") == 0 ? "little" : NULL,
        .single_endianness = c->conf ? tern_config_get_bool(c->conf, "filter_scheduler",
                                                             "single_guest_endianness")
                                     : FALSE,
    };
    return g;
}

static const char *
jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int
tern_conductor_claim(TernConductor *c, TernDb *db, const TernDbInstance *inst,
                     json_t *request_spec, const char *host, GError **error)
{
    TernDbResources res;
    tern_conductor_instance_resources(inst, &res);
    TernDbGuestRules guest = guest_rules(c, inst);
    /* The server group as the scheduler reads it: Nova's InstanceGroup
     * (policy, or the older policies list), else the "group" hint. */
    json_t *d = json_object_get(request_spec, "nova_object.data");
    json_t *gd = json_object_get(json_object_get(d, "instance_group"), "nova_object.data");
    const char *group = jstr(gd, "uuid");
    const char *policy = jstr(gd, "policy");
    if (group && !policy)
        policy = json_string_value(json_array_get(json_object_get(gd, "policies"), 0));
    if (!group) {
        json_t *hint = json_object_get(json_object_get(d, "scheduler_hints"), "group");
        group = json_is_array(hint) ? json_string_value(json_array_get(hint, 0))
                                    : json_string_value(hint);
    }
    if (group) {
        g_autofree char *recorded = NULL;
        if (!policy && tern_db_group_get(db, group, &recorded, NULL, error) < 0)
            return -1;
        if (!policy)
            policy = recorded;
        if (policy)
            return tern_db_group_claim(db, group, policy, inst->uuid, host, &res, &guest, NULL,
                                       error);
    }
    return tern_db_claim_guest(db, inst->uuid, host, &res, &guest, NULL, error);
}

int
tern_conductor_move_claim(TernConductor *c, TernDb *db, const TernDbInstance *inst,
                          const char *migration_uuid, const char *host, GError **error)
{
    TernDbResources res;
    tern_conductor_instance_resources(inst, &res);
    TernDbGuestRules guest = guest_rules(c, inst);
    return tern_db_group_move_claim(db, inst->uuid, migration_uuid, host, &res, &guest, NULL,
                                    error);
}
