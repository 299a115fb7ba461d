/* context.c: request contexts in the form Nova's RequestContext.to_dict()
 * gives them (the "_context_*" keys of every message, docs/wire.md §4). */
#include "rpc/rpc_private.h"
#include "common/util.h"

static json_t *
str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *
tern_rpc_context_new(const char *user_id, const char *project_id, gboolean is_admin)
{
    g_autofree char *rid = tern_request_id_new();
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *ts = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S.%f");
    g_autofree char *identity = g_strdup_printf("%s %s - - -", user_id ? user_id : "-",
                                                project_id ? project_id : "-");
    json_t *c = json_object();
    json_object_set_new(c, "user", str_or_null(user_id));
    json_object_set_new(c, "project_id", str_or_null(project_id));
    json_object_set_new(c, "system_scope", json_null());
    json_object_set_new(c, "project", str_or_null(project_id));
    json_object_set_new(c, "domain", json_null());
    json_object_set_new(c, "user_domain", json_null());
    json_object_set_new(c, "project_domain", json_null());
    json_object_set_new(c, "is_admin", json_boolean(is_admin));
    json_object_set_new(c, "read_only", json_false());
    json_object_set_new(c, "show_deleted", json_false());
    json_object_set_new(c, "auth_token", json_null());
    json_object_set_new(c, "request_id", json_string(rid));
    json_object_set_new(c, "global_request_id", json_null());
    json_object_set_new(c, "resource_uuid", json_null());
    json_object_set_new(c, "roles", is_admin ? json_pack("[s]", "admin") : json_array());
    json_object_set_new(c, "user_identity", json_string(identity));
    json_object_set_new(c, "is_admin_project", json_true());
    json_object_set_new(c, "user_id", str_or_null(user_id));
    json_object_set_new(c, "read_deleted", json_string("no"));
    json_object_set_new(c, "remote_address", json_null());
    json_object_set_new(c, "timestamp", json_string(ts));
    json_object_set_new(c, "quota_class", json_null());
    json_object_set_new(c, "user_name", json_null());
    json_object_set_new(c, "service_catalog", json_array());
    json_object_set_new(c, "project_name", json_null());
    return c;
}
