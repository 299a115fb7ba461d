/* guest_lifecycle.c: boot, power operations, terminate and reconcile of
 * guests on a libvirt connection. */
#include "compute/guest_lifecycle.h"

#include <libvirt/virterror.h>

#include "common/log.h"
#include "compute/compute_error.h"
#include "compute/instance_disk.h"
#include "compute/libvirt_conn.h"

static virDomainPtr
lookup(virConnectPtr conn, const char *uuid, GError **error)
{
    virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);
    if (!dom) {
        virErrorPtr e = virGetLastError();
        if (e && e->code == VIR_ERR_NO_DOMAIN)
            g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_NOT_FOUND,
                        "no libvirt domain for instance %s", uuid);
        else
            tern_libvirt_set_error(error, "cannot look up instance %s", uuid);
    }
    return dom;
}

int
tern_guest_boot(virConnectPtr conn, const char *xml, GError **error)
{
    virDomainPtr dom = virDomainDefineXMLFlags(conn, xml, VIR_DOMAIN_DEFINE_VALIDATE);
    if (!dom) {
        tern_libvirt_set_error(error, "libvirt refused the domain");
        return -1;
    }
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    virDomainGetUUIDString(dom, uuid);
    if (virDomainCreate(dom) < 0) {
        tern_libvirt_set_error(error, "instance %s did not start", uuid);
        virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                                    VIR_DOMAIN_UNDEFINE_NVRAM);
        virDomainFree(dom);
        return -1;
    }
    TERN_INFO("tern.compute", "instance %s started", uuid);
    virDomainFree(dom);
    return 0;
}

int
tern_guest_start(virConnectPtr conn, const char *uuid, GError **error)
{
    virDomainPtr dom = lookup(conn, uuid, error);
    if (!dom)
        return -1;
    int rc = 0;
    if (virDomainIsActive(dom) != 1 && virDomainCreate(dom) < 0) {
        tern_libvirt_set_error(error, "instance %s did not start", uuid);
        rc = -1;
    }
    virDomainFree(dom);
    return rc;
}

static int
power_off(virDomainPtr dom, const char *uuid, GError **error)
{
    if (virDomainIsActive(dom) == 1 && virDomainDestroy(dom) < 0 &&
        virDomainIsActive(dom) == 1) {
        tern_libvirt_set_error(error, "cannot power off instance %s", uuid);
        return -1;
    }
    return 0;
}

int
tern_guest_stop(virConnectPtr conn, const char *uuid, guint timeout_s, GError **error)
{
    virDomainPtr dom = lookup(conn, uuid, error);
    if (!dom)
        return -1;
    int rc = 0;
    if (virDomainIsActive(dom) == 1 && timeout_s > 0) {
        if (virDomainShutdown(dom) == 0) {
            gint64 until = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
            while (virDomainIsActive(dom) == 1 && g_get_monotonic_time() < until)
                g_usleep(100 * 1000);
        }
        if (virDomainIsActive(dom) == 1)
            TERN_INFO("tern.compute", "instance %s did not shut down within %u s; powering off",
                      uuid, timeout_s);
    }
    rc = power_off(dom, uuid, error);
    virDomainFree(dom);
    return rc;
}

int
tern_guest_reboot(virConnectPtr conn, const char *uuid, gboolean hard, GError **error)
{
    virDomainPtr dom = lookup(conn, uuid, error);
    if (!dom)
        return -1;
    int rc = 0;
    if (!hard) {
        if (virDomainReboot(dom, 0) < 0) {
            tern_libvirt_set_error(error, "instance %s did not accept a soft reboot", uuid);
            rc = -1;
        }
    } else if (power_off(dom, uuid, error) < 0) {
        rc = -1;
    } else if (virDomainCreate(dom) < 0) {
        tern_libvirt_set_error(error, "instance %s did not start again", uuid);
        rc = -1;
    }
    virDomainFree(dom);
    return rc;
}

int
tern_guest_terminate(virConnectPtr conn, const char *uuid, const char *instances_path,
                     GError **error)
{
    g_autoptr(GError) err = NULL;
    virDomainPtr dom = lookup(conn, uuid, &err);
    if (!dom && !g_error_matches(err, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_NOT_FOUND)) {
        g_propagate_error(error, g_steal_pointer(&err));
        return -1;
    }
    if (dom) {
        if (power_off(dom, uuid, error) < 0) {
            virDomainFree(dom);
            return -1;
        }
        unsigned int flags = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                             VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                             VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA | VIR_DOMAIN_UNDEFINE_NVRAM;
        if (virDomainIsPersistent(dom) == 1 && virDomainUndefineFlags(dom, flags) < 0 &&
            virDomainUndefine(dom) < 0) {
            tern_libvirt_set_error(error, "cannot undefine instance %s", uuid);
            virDomainFree(dom);
            return -1;
        }
        virDomainFree(dom);
    }
    if (instances_path && tern_instance_disks_remove(instances_path, uuid, error) < 0)
        return -1;
    TERN_INFO("tern.compute", "instance %s terminated", uuid);
    return 0;
}

int
tern_guest_power_state(virConnectPtr conn, const char *uuid, int *power_state, GError **error)
{
    virDomainPtr dom = lookup(conn, uuid, error);
    if (!dom)
        return -1;
    int state = 0, reason = 0;
    int rc = virDomainGetState(dom, &state, &reason, 0);
    if (rc < 0)
        tern_libvirt_set_error(error, "cannot read the state of instance %s", uuid);
    else
        *power_state = tern_power_state_from_libvirt(state);
    virDomainFree(dom);
    return rc < 0 ? -1 : 0;
}

void
tern_domain_info_free(TernDomainInfo *info)
{
    if (!info)
        return;
    g_free(info->uuid);
    g_free(info->name);
    g_free(info);
}

int
tern_guest_reconcile(virConnectPtr conn, const char *const *known, GPtrArray **unknown,
                     GPtrArray **missing, GError **error)
{
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(conn, &doms, 0);
    if (n < 0) {
        tern_libvirt_set_error(error, "cannot list libvirt's domains");
        return -1;
    }
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    *unknown = g_ptr_array_new_with_free_func((GDestroyNotify)tern_domain_info_free);
    *missing = g_ptr_array_new_with_free_func(g_free);
    for (int i = 0; i < n; i++) {
        char uuid[VIR_UUID_STRING_BUFLEN] = "";
        virDomainGetUUIDString(doms[i], uuid);
        g_hash_table_add(seen, g_strdup(uuid));
        if (!known || !g_strv_contains(known, uuid)) {
            TernDomainInfo *info = g_new0(TernDomainInfo, 1);
            int state = 0, reason = 0;
            info->uuid = g_strdup(uuid);
            info->name = g_strdup(virDomainGetName(doms[i]));
            info->power_state = virDomainGetState(doms[i], &state, &reason, 0) == 0 ?
                                tern_power_state_from_libvirt(state) : 0;
            TERN_WARN("tern.compute", "libvirt domain %s (%s) belongs to no instance of this "
                      "host; left untouched", info->uuid, info->name);
            g_ptr_array_add(*unknown, info);
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    for (const char *const *k = known; k && *k; k++)
        if (!g_hash_table_contains(seen, *k))
            g_ptr_array_add(*missing, g_strdup(*k));
    return 0;
}
