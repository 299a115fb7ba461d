#!/usr/bin/python3
# test-migration-tls.py: live migration of a real TCG guest over TLS between
# two namespaced libvirt hosts (scripts/hosts with TERN_HOSTS_TLS=1: a test
# CA, per-host certificates in each host's own /etc/pki, libvirtd listening on
# TLS, qemu.conf default_tls_x509_cert_dir), driven through Nova's ComputeAPI
# against two real tern-compute daemons configured with
# [libvirt] live_migration_scheme = tls (libvirtd-to-libvirtd control channel:
# qemu+tls://DEST/system) and live_migration_with_native_tls = true (QEMU's
# migration stream in TLS: VIR_MIGRATE_TLS).
#
#   1. tlsa -> tlsb completes; the guest's console counter continues on tlsb.
#   2. the source trusts another CA (its /etc/pki/CA/cacert.pem swapped):
#      refused, libvirt's certificate error in the migration's error, the guest
#      still runs on the source, nothing defined on the destination.
#   3. the destination's QEMU trusts another CA (its /etc/pki/qemu/ca-cert.pem
#      swapped; libvirt's own channel still fine): the native-TLS stream is
#      refused, the guest stays on the source.
#   4. the destination presents a certificate signed by another CA (reloaded
#      with virt-admin server-update-tls): the source refuses it, the guest
#      stays on the source.
#   5. the destination named by a host name its certificate does not hold
#      (live_migration_uri = qemu+tls://tlsa.untrusted-name/system): refused
#      with libvirt's hostname error, the guest stays on the source.
#
# Needs root (network namespaces), TERN_TEST_TRANSPORT_URL and the guest
# assets (tests/e2e/guest-assets.sh); TERN_TEST_NO_HOSTS=1 skips it. Only the
# hosts it starts (tlsa, tlsb) are stopped at the end.
import os
import re
import shutil
import subprocess
import sys
import time
import uuid as uuidlib

if not os.environ.get("TERN_TEST_TRANSPORT_URL"):
    print("1..0 # SKIP TERN_TEST_TRANSPORT_URL not set (scripts/services start rabbitmq)")
    sys.exit(0)
if os.environ.get("TERN_TEST_NO_HOSTS") == "1" or os.geteuid() != 0:
    print("1..0 # SKIP needs root for namespaced libvirt hosts (or TERN_TEST_NO_HOSTS=1)")
    sys.exit(0)

SRCDIR = os.environ.get("TERN_SRCDIR", os.path.dirname(os.path.abspath(__file__)) + "/../..")
ASSETS = os.environ.get("TERN_TEST_ASSETS", "/var/cache/tern-test-assets")
if not all(os.path.exists(os.path.join(ASSETS, "x86_64", p)) for p in ("vmlinuz", "initrd.gz")):
    print("1..0 # SKIP no guest assets in %s (tests/e2e/guest-assets.sh makes them)" % ASSETS)
    sys.exit(0)

sys.path.insert(0, os.path.join(SRCDIR, "tests", "integration"))
from compute_peer import ok, wait_for, make_instance, build, stop_daemon, finish  # noqa: E402
from compute_peer import tmp, URL, EXCHANGE, DAEMON, START_TIMEOUT  # noqa: E402,F401
from compute_peer import virsh, counts  # noqa: E402

HOSTS = os.path.join(SRCDIR, "scripts", "hosts")
SDIR = os.environ.get("TERN_SERVICES_DIR", "/tmp/tern-services")
images = os.path.join(tmp, "images")
os.makedirs(images, exist_ok=True)
os.symlink(os.path.join(ASSETS, "x86_64", "vmlinuz"), os.path.join(images, "kernel-x86_64"))
os.symlink(os.path.join(ASSETS, "x86_64", "initrd.gz"), os.path.join(images, "initrd-x86_64"))
os.chmod(tmp, 0o755)
IMAGE = {"id": "busybox-x86_64", "name": "busybox x86_64",
         "properties": {"hw_architecture": "x86_64", "kernel_id": "kernel-x86_64",
                        "ramdisk_id": "initrd-x86_64", "os_command_line": "panic=-1"}}


daemons = {}
started = False
try:
    subprocess.run([HOSTS, "stop", "tlsa", "tlsb"], capture_output=True)
    r = subprocess.run([HOSTS, "start", "tlsa", "tlsb"], capture_output=True, text=True,
                       env=dict(os.environ, TERN_HOSTS_TLS="1"))
    started = True
    if not ok(r.returncode == 0, "TERN_HOSTS_TLS=1 scripts/hosts start tlsa tlsb"):
        sys.stderr.write(r.stderr)
        raise SystemExit("no hosts")
    henv = dict(re.findall(r"export (\w+)='([^']*)'", open(os.path.join(SDIR, "hosts.env")).read()))
    H = {n: {"addr": henv["TERN_HOST_%s_ADDR" % n.upper()],
             "uri": henv["TERN_HOST_%s_URI" % n.upper()],
             "pki": henv["TERN_HOST_%s_PKI" % n.upper()],
             "dir": os.path.join(SDIR, "hosts", n)} for n in ("tlsa", "tlsb")}
    other_ca = os.path.join(henv["TERN_HOSTS_TLS_DIR"], "other-ca.pem")

    def start_host_daemon(n, extra=""):
        path = os.path.join(tmp, n + ".conf")
        with open(path, "w") as f:
            f.write("[DEFAULT]\ntransport_url = %s\ncontrol_exchange = %s\nhost = %s\n"
                    "report_interval = 2\nshutdown_timeout = 5\n"
                    "[compute]\ninstances_path = /var/lib/tern/instances\nimages_path = %s\n"
                    "[libvirt]\nconnection_uri = \nvirt_type = qemu\n"
                    "cpu_mode = custom\ncpu_models = Nehalem\n"
                    "live_migration_scheme = tls\nlive_migration_with_native_tls = true\n"
                    "live_migration_inbound_addr = %s\n%s"
                    % (URL, EXCHANGE, n, images, H[n]["addr"], extra))
        os.chmod(path, 0o600)
        # reports of an earlier daemon of this host must not count as this one's
        while wait_for("compute_node_report", lambda kw: kw["host"] == n, 0) is not None:
            pass
        log = open(path + ".log", "a")
        daemons[n] = subprocess.Popen([HOSTS, "exec", n, DAEMON, "--config-file", path],
                                      stdout=log, stderr=subprocess.STDOUT)
        return wait_for("compute_node_report", lambda kw: kw["host"] == n, START_TIMEOUT,
                        alive=daemons[n])

    for n in ("tlsa", "tlsb"):
        ok(start_host_daemon(n) is not None, "%s: tern-compute inside the TLS host reports" % n)

    def console(n, uuid):
        return os.path.join(H[n]["dir"], "tern", "instances", uuid, "console.log")

    from compute_peer import objects, api, ctx  # noqa: E402

    def migrate(inst, src, dst, timeout=240):
        mig = objects.Migration(uuid=str(uuidlib.uuid4()), instance_uuid=inst.uuid,
                                source_compute=src, dest_compute=dst, source_node=src,
                                dest_node=dst, migration_type="live-migration",
                                status="accepted")
        inst.host = src
        inst.node = src
        inst.task_state = None
        md = api.check_can_live_migrate_destination(ctx, inst, dst, None, None, mig, None)
        inst.task_state = "migrating"
        t0 = time.time()
        api.live_migration(ctx, inst, dst, md.block_migration, src, mig, md)
        st = wait_for("migration_update", lambda kw: kw["uuid"] == mig.uuid and
                      kw["updates"].get("status") in ("completed", "error", "failed"), timeout)
        inst.task_state = None
        return st, time.time() - t0

    def stays(inst, src, dst, what):
        rc, state = virsh(H[src]["uri"], "domstate", inst.uuid)
        ok(rc == 0 and state == "running", "%s: the guest still runs on %s (%s)" % (what, src, state))
        c1 = counts(console(src, inst.uuid))
        time.sleep(2.5)
        c2 = counts(console(src, inst.uuid))
        ok(c1 and c2 and c2[-1] > c1[-1], "%s: and keeps counting there (%s -> %s)" %
           (what, c1[-1] if c1 else None, c2[-1] if c2 else None))
        rc, out = virsh(H[dst]["uri"], "list", "--all", "--uuid")
        ok(rc == 0 and inst.uuid not in out, "%s: nothing of it is defined on %s" % (what, dst))

    # ------------------------------------------------- 1. tlsa -> tlsb over TLS
    inst = make_instance("tlsa", IMAGE["id"], memory_mb=256, root_gb=0)
    build(inst, "tlsa", IMAGE)
    up = wait_for("instance_update", lambda kw: kw["uuid"] == inst.uuid and
                  kw["updates"].get("vm_state") == "active", 90)
    ok(up is not None, "x86_64 guest running on tlsa")
    inst.vm_state = "active"
    got = None
    end = time.time() + 180
    while time.time() < end:
        c = counts(console("tlsa", inst.uuid))
        if c and c[-1] >= 3:
            got = c[-1]
            break
        time.sleep(0.5)
    ok(got is not None, "the guest counts on tlsa (COUNT %s)" % got)
    st, secs = migrate(inst, "tlsa", "tlsb")
    ok(st is not None and st["updates"]["status"] == "completed",
       "live migration tlsa -> tlsb over TLS (qemu+tls control, native TLS stream) completed "
       "in %.1f s (%s)" % (secs, st and (st["updates"].get("error") or
                                         "downtime %s ms" % st["updates"].get("downtime_ms"))))
    alog = open(os.path.join(tmp, "tlsa.conf.log"), errors="replace").read()
    ok("qemu+tls://%s/system" % H["tlsb"]["addr"] in alog and "native TLS" in alog,
       "tlsa's tern-compute used qemu+tls:// and VIR_MIGRATE_TLS (its log says so)")
    rc, state = virsh(H["tlsb"]["uri"], "domstate", inst.uuid)
    ok(rc == 0 and state == "running", "the domain runs on tlsb (%s)" % state)
    rc, _ = virsh(H["tlsa"]["uri"], "dominfo", inst.uuid)
    ok(rc != 0, "the domain is gone from tlsa")
    time.sleep(3)
    cb = counts(console("tlsb", inst.uuid))
    ok(cb and cb[0] > 1 and cb[-1] > cb[0],
       "the counter continues on tlsb (last on tlsa %s, on tlsb %s..%s), no reboot" %
       (got, cb[0] if cb else None, cb[-1] if cb else None))

    # From here the guest is on tlsb and every migration back to tlsa must fail.
    # ------------------------------------ 2. the source trusts another CA
    ca = os.path.join(H["tlsb"]["pki"], "CA", "cacert.pem")
    shutil.copy(ca, ca + ".good")
    shutil.copy(other_ca, ca)
    st, secs = migrate(inst, "tlsb", "tlsa")
    err = (st or {}).get("updates", {}).get("error", "")
    ok(st is not None and st["updates"]["status"] in ("error", "failed") and
       re.search(r"certificate|verify", err, re.I),
       "source trusting another CA: refused with libvirt's certificate error (%s)" % err[:200])
    shutil.copy(ca + ".good", ca)
    stays(inst, "tlsb", "tlsa", "wrong CA")

    # ------------------------ 3. the destination's QEMU trusts another CA
    qca = os.path.join(H["tlsa"]["pki"], "qemu", "ca-cert.pem")
    shutil.copy(qca, qca + ".good")
    shutil.copy(other_ca, qca)
    st, secs = migrate(inst, "tlsb", "tlsa")
    err = (st or {}).get("updates", {}).get("error", "")
    ok(st is not None and st["updates"]["status"] in ("error", "failed") and err,
       "destination QEMU trusting another CA: the native-TLS stream is refused (%s)" % err[:200])
    shutil.copy(qca + ".good", qca)
    stays(inst, "tlsb", "tlsa", "wrong CA for QEMU's TLS")

    # ---- 4. the destination presents a certificate of a CA the source does not trust
    # tlsa's libvirtd gets a server certificate signed by the other CA (and trusts
    # both CAs itself, or it would refuse its own certificate); tlsb trusts only
    # the test CA. virt-admin server-update-tls makes libvirtd reload them.
    tdir = henv["TERN_HOSTS_TLS_DIR"]
    files = {k: os.path.join(H["tlsa"]["pki"], v) for k, v in (
        ("ca", "CA/cacert.pem"), ("cert", "libvirt/servercert.pem"),
        ("key", "libvirt/private/serverkey.pem"))}
    saved = {k: open(f, "rb").read() for k, f in files.items()}
    ext = os.path.join(tmp, "rogue.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:tlsa,IP:%s\nextendedKeyUsage=serverAuth,clientAuth\n"
                % H["tlsa"]["addr"])
    rogue = os.path.join(tmp, "rogue")
    subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", rogue + ".key",
                    "-out", rogue + ".csr", "-subj", "/O=tern/CN=tlsa"], capture_output=True,
                   check=True)
    subprocess.run(["openssl", "x509", "-req", "-in", rogue + ".csr", "-CA",
                    os.path.join(tdir, "other-ca.pem"), "-CAkey", os.path.join(tdir, "other-ca.key"),
                    "-CAcreateserial", "-CAserial", rogue + ".srl", "-out", rogue + ".pem",
                    "-days", "1", "-extfile", ext], capture_output=True, check=True)
    with open(files["ca"], "wb") as f:
        f.write(saved["ca"] + open(other_ca, "rb").read())
    shutil.copy(rogue + ".pem", files["cert"])
    shutil.copy(rogue + ".key", files["key"])

    def reload_tls(n):
        return subprocess.run([HOSTS, "exec", n, "virt-admin", "server-update-tls", "libvirtd"],
                              capture_output=True, text=True, timeout=30).returncode == 0

    ok(reload_tls("tlsa"), "tlsa's libvirtd now presents a certificate of the other CA "
       "(virt-admin server-update-tls)")
    st, secs = migrate(inst, "tlsb", "tlsa")
    err = (st or {}).get("updates", {}).get("error", "")
    ok(st is not None and st["updates"]["status"] in ("error", "failed") and
       re.search(r"certificate|verify", err, re.I),
       "destination certificate from a CA the source does not trust: refused (%s)" % err[:200])
    for k, f in files.items():
        with open(f, "wb") as fh:
            fh.write(saved[k])
    ok(reload_tls("tlsa"), "tlsa's own certificate restored")
    stays(inst, "tlsb", "tlsa", "untrusted destination certificate")

    # ------------------- 5. a destination name the certificate does not hold
    stop_daemon(daemons.pop("tlsb"))
    ok(start_host_daemon("tlsb", "live_migration_uri = qemu+tls://tlsa.untrusted-name/system\n")
       is not None, "tlsb's tern-compute restarted with a live_migration_uri naming "
       "tlsa.untrusted-name")
    st, secs = migrate(inst, "tlsb", "tlsa")
    err = (st or {}).get("updates", {}).get("error", "")
    ok(st is not None and st["updates"]["status"] in ("error", "failed") and
       re.search(r"certificate|verify|hostname", err, re.I),
       "host name not in the destination's certificate: refused (%s)" % err[:200])
    stays(inst, "tlsb", "tlsa", "wrong host name")

    inst.host = "tlsb"
    api.terminate_instance(ctx, inst, bdms=objects.BlockDeviceMappingList(objects=[]))
    ok(wait_for("instance_update", lambda kw: kw["uuid"] == inst.uuid and
                kw["updates"].get("vm_state") == "deleted", 60) is not None,
       "the guest is terminated on tlsb")
except SystemExit:
    pass
except Exception as e:  # noqa: BLE001 (any surprise is a failed check, with its traceback)
    import traceback
    ok(False, "unexpected %s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else ""))
    traceback.print_exc()
finally:
    for p in daemons.values():
        if p.poll() is None:
            stop_daemon(p)
    if started:
        subprocess.run([HOSTS, "stop", "tlsa", "tlsb"], capture_output=True)
    finish([])
