#!/usr/bin/python3
# test-compute-daemon-e2e.py: tern-compute with real QEMU (TCG) guests,
# driven through Nova's ComputeAPI over a real RabbitMQ, with a test peer
# collecting the conductor's tern-namespace reports (docs/tern-rpc.md).
#
# 1. On the private libvirtd (TERN_TEST_LIBVIRT_URI): an x86_64 and a
#    ppc64le (pseries) busybox guest (tests/e2e/guest-assets.sh: Debian
#    kernel + initramfs printing TERN-GUEST-BOOTED <uname -m> and a counter),
#    built through build_and_run_instance with Nova-style direct kernel boot
#    (image properties kernel_id / ramdisk_id resolved in [compute]
#    images_path), reach running and print their marker; terminated with
#    nothing left.
# 2. Two real libvirt hosts (scripts/hosts start hosta hostb), a tern-compute
#    in each host's mount+UTS namespaces: the conductor's flow
#    (check_can_live_migrate_destination call to the destination, then the
#    live_migration cast to the source) moves an x86_64 and a ppc64le guest
#    from hosta to hostb: migration completed with progress reported, the
#    instance's host is hostb, the domain runs on B and is gone from A, and
#    the guest's console counter continues on B instead of restarting.
#    Then hostb's libvirtd is killed in the middle of a (bandwidth-limited)
#    migration: the guest keeps running on hosta, the migration is `error`,
#    and nothing is left defined on hostb once its libvirtd is back.
# Part 1 needs TERN_TEST_LIBVIRT_URI; part 2 also needs root (network
# namespaces); TERN_TEST_NO_HOSTS=1 skips it. Guest assets come from
# $TERN_TEST_ASSETS (default /var/cache/tern-test-assets), made by
# tests/e2e/guest-assets.sh when it is there.
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid as uuidlib

if not os.environ.get("TERN_TEST_LIBVIRT_URI") or not os.environ.get("TERN_TEST_TRANSPORT_URL"):
    print("1..0 # SKIP TERN_TEST_LIBVIRT_URI / TERN_TEST_TRANSPORT_URL not set "
          "(scripts/services start rabbitmq libvirt)")
    sys.exit(0)

SRCDIR = os.environ.get("TERN_SRCDIR", os.path.dirname(os.path.abspath(__file__)) + "/../..")
ASSETS = os.environ.get("TERN_TEST_ASSETS", "/var/cache/tern-test-assets")


def have_assets():
    return all(os.path.getsize(os.path.join(ASSETS, p)) > 0 if os.path.exists(
        os.path.join(ASSETS, p)) else False for p in
        ("x86_64/vmlinuz", "x86_64/initrd.gz", "ppc64le/vmlinux", "ppc64le/initrd.gz"))


if not have_assets():
    script = os.path.join(SRCDIR, "tests", "e2e", "guest-assets.sh")
    if os.path.exists(script):
        subprocess.call([script], stdout=subprocess.DEVNULL)
if not have_assets():
    print("1..0 # SKIP no guest assets in %s (tests/e2e/guest-assets.sh makes them)" % ASSETS)
    sys.exit(0)

sys.path.insert(0, os.path.join(SRCDIR, "tests", "integration"))
from compute_peer import *  # noqa: E402,F401,F403
from compute_peer import peer, objects, api, ctx, tmp, URL, EXCHANGE, DAEMON  # noqa: E402
from compute_peer import virsh, counts  # noqa: E402
import host_lease  # noqa: E402

LIBVIRT = os.environ["TERN_TEST_LIBVIRT_URI"]
images = os.path.join(tmp, "images")
os.makedirs(images, exist_ok=True)
for arch, kernel in (("x86_64", "vmlinuz"), ("ppc64le", "vmlinux")):
    os.symlink(os.path.join(ASSETS, arch, kernel), os.path.join(images, "kernel-" + arch))
    os.symlink(os.path.join(ASSETS, arch, "initrd.gz"), os.path.join(images, "initrd-" + arch))
os.chmod(tmp, 0o755)

CPU = "cpu_mode = custom\ncpu_models = Nehalem\ncpu_model_extra_flags = aes\n"


def real_conf(host, uri, instances, extra=""):
    path = os.path.join(tmp, host + ".conf")
    with open(path, "w") as f:
        f.write("[DEFAULT]\ntransport_url = %s\ncontrol_exchange = %s\nhost = %s\n"
                "report_interval = 2\nshutdown_timeout = 5\n"
                "[compute]\ninstances_path = %s\nimages_path = %s\n"
                "[libvirt]\nconnection_uri = %s\nvirt_type = qemu\n%s%s"
                % (URL, EXCHANGE, host, instances, images, uri, CPU, extra))
    os.chmod(path, 0o600)
    return path


def image_for(arch):
    return {"id": "busybox-" + arch, "name": "busybox " + arch,
            "properties": {"hw_architecture": arch, "kernel_id": "kernel-" + arch,
                           "ramdisk_id": "initrd-" + arch, "os_command_line": "panic=-1"}}


def wait_file(path, pattern, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path):
            m = re.findall(pattern, open(path, errors="replace").read())
            if m:
                return m
        time.sleep(0.5)
    return None


daemons = []
started_hosts = False
try:
    # ---------------------------------------------------- 1. boot on one host
    host = "tern-e2e-" + uuidlib.uuid4().hex[:6]
    inst_path = os.path.join(tmp, host, "instances")
    conf = real_conf(host, LIBVIRT, inst_path)
    d = start_daemon(conf)
    daemons.append(d)
    if not ok(wait_for("compute_node_report", lambda kw: kw["host"] == host, START_TIMEOUT,
                       alive=d) is not None,
              "tern-compute on a real libvirtd reports its node"):
        raise SystemExit("no report")
    for arch, mem in (("x86_64", 256), ("ppc64le", 512)):
        inst = make_instance(host, "busybox-" + arch, memory_mb=mem, root_gb=0)
        t0 = time.time()
        build(inst, host, image_for(arch))
        up = wait_for("instance_update", lambda kw: kw["uuid"] == inst.uuid and
                      kw["updates"].get("vm_state") == "active", 60)
        ok(up is not None and up["updates"]["power_state"] == 1,
           "%s guest built through the RPC is running (%.1f s)" % (arch, time.time() - t0))
        log = os.path.join(inst_path, inst.uuid, "console.log")
        marker = wait_file(log, r"TERN-GUEST-BOOTED (\S+)", 180)
        ok(marker == [arch], "%s guest prints its marker with uname -m %s (%.1f s after the "
           "build request)" % (arch, marker, time.time() - t0))
        if up:
            mt = up["updates"].get("machine_type", "")
            ok(mt.startswith("pc-q35-" if arch == "x86_64" else "pseries-"),
               "%s guest's machine type recorded: %s" % (arch, mt))
        api.terminate_instance(ctx, inst, bdms=objects.BlockDeviceMappingList(objects=[]))
        ok(wait_for("instance_update", lambda kw: kw["uuid"] == inst.uuid and
                    kw["updates"].get("vm_state") == "deleted", 60) is not None,
           "%s guest terminated" % arch)
        rc, out = virsh(LIBVIRT, "list", "--all", "--uuid")
        ok(inst.uuid not in out and not os.path.exists(os.path.join(inst_path, inst.uuid)),
           "%s guest: no domain and no files left" % arch)
    stop_daemon(d)

    # ---------------------------------------------- 2. live migration A -> B
    if os.environ.get("TERN_TEST_NO_HOSTS") == "1" or os.geteuid() != 0:
        raise StopIteration("hosts skipped")
    sdir = os.environ.get("TERN_SERVICES_DIR", "/tmp/tern-services")
    hosts_script = os.path.join(SRCDIR, "scripts", "hosts")
    env_file = os.path.join(sdir, "hosts.env")
    lease = host_lease.lease(["hosta", "hostb"])   # no other test on them meanwhile
    had = os.path.exists(env_file) and "HOSTA" in open(env_file).read() and \
        "HOSTB" in open(env_file).read()
    r = subprocess.run([hosts_script, "start", "hosta", "hostb"], capture_output=True, text=True)
    started_hosts = not had
    if not ok(r.returncode == 0, "scripts/hosts start hosta hostb"):
        sys.stderr.write(r.stderr)
        raise SystemExit("no hosts")
    henv = dict(re.findall(r"export (\w+)='([^']*)'", open(env_file).read()))
    H = {n: {"addr": henv["TERN_HOST_%s_ADDR" % n.upper()],
             "uri": henv["TERN_HOST_%s_URI" % n.upper()],
             "dir": os.path.join(sdir, "hosts", n)} for n in ("hosta", "hostb")}

    def start_host_daemon(n, extra=""):
        c = real_conf(n, "", "/var/lib/tern/instances",
                      "live_migration_scheme = tcp\nlive_migration_inbound_addr = %s\n%s"
                      % (H[n]["addr"], extra))
        log = open(c + ".log", "a")
        p = subprocess.Popen([hosts_script, "exec", n, DAEMON, "--config-file", c],
                             stdout=log, stderr=subprocess.STDOUT)
        daemons.append(p)
        return p

    def console(n, uuid):
        return os.path.join(H[n]["dir"], "tern", "instances", uuid, "console.log")

    pa = start_host_daemon("hosta")
    pb = start_host_daemon("hostb")
    for n, p in (("hosta", pa), ("hostb", pb)):
        rep = wait_for("compute_node_report", lambda kw, n=n: kw["host"] == n, START_TIMEOUT,
                       alive=p)
        ok(rep is not None and rep["node"]["migration_addr"] == H[n]["addr"],
           "%s: tern-compute inside the host reports, migration address %s" % (n, H[n]["addr"]))

    def migrate(inst, expect="completed", during=None, timeout=300):
        mig = objects.Migration(uuid=str(uuidlib.uuid4()), instance_uuid=inst.uuid,
                                source_compute="hosta", dest_compute="hostb",
                                source_node="hosta", dest_node="hostb",
                                migration_type="live-migration", status="accepted")
        md = api.check_can_live_migrate_destination(ctx, inst, "hostb", None, None, mig, None)
        inst.task_state = "migrating"
        t0 = time.time()
        api.live_migration(ctx, inst, "hostb", md.block_migration, "hosta", mig, md)
        if during:
            during(mig)
        st = wait_for("migration_update", lambda kw: kw["uuid"] == mig.uuid and
                      kw["updates"].get("status") in ("completed", "error", "failed"), timeout)
        return mig, st, time.time() - t0

    for arch, mem in (("x86_64", 256), ("ppc64le", 512)):
        inst = make_instance("hosta", "busybox-" + arch, memory_mb=mem, root_gb=0)
        build(inst, "hosta", image_for(arch))
        up = wait_for("instance_update", lambda kw: kw["uuid"] == inst.uuid and
                      kw["updates"].get("vm_state") == "active", 60)
        ok(up is not None, "%s guest running on hosta" % arch)
        inst.vm_state = "active"
        got = None
        end = time.time() + 180
        while time.time() < end:
            c = counts(console("hosta", inst.uuid))
            if c and c[-1] >= 3:
                got = c[-1]
                break
            time.sleep(0.5)
        ok(got is not None, "%s guest counts on hosta (COUNT %s)" % (arch, got))
        mig, st, secs = migrate(inst)
        ok(st is not None and st["updates"]["status"] == "completed",
           "%s live migration hosta -> hostb completed in %.1f s (downtime %s ms)" %
           (arch, secs, st and st["updates"].get("downtime_ms")))
        ok(st is not None and st["updates"].get("downtime_ms", -1) >= 0 and
           st["updates"].get("memory_processed", 0) > 0,
           "%s: the completed migration reports downtime and memory from libvirt's job stats" %
           arch)
        prog = [kw["updates"] for ev, kw in peer.history if ev == "migration_update" and
                kw["uuid"] == mig.uuid and kw["updates"].get("status") == "running"]
        ok(any(u.get("memory_total", 0) > 0 for u in prog) or
           (st and st["updates"].get("memory_total", 0) > 0),
           "%s: progress reported (%d running updates, memory_total %s)" %
           (arch, len(prog), st and st["updates"].get("memory_total")))
        moved = wait_for("instance_update", lambda kw: kw["uuid"] == inst.uuid and
                         kw["updates"].get("host") == "hostb", 60)
        ok(moved is not None and moved["updates"]["power_state"] == 1,
           "%s: instance_update host=hostb, running" % arch)
        rc, state = virsh(H["hostb"]["uri"], "domstate", inst.uuid)
        ok(rc == 0 and state == "running", "%s: the domain runs on hostb (%s)" % (arch, state))
        rc, _ = virsh(H["hosta"]["uri"], "dominfo", inst.uuid)
        ok(rc != 0, "%s: the domain is gone from hosta" % arch)
        time.sleep(4)
        cb = counts(console("hostb", inst.uuid))
        blog = open(console("hostb", inst.uuid), errors="replace").read() \
            if os.path.exists(console("hostb", inst.uuid)) else ""
        ok(cb and cb[0] > 1 and cb[-1] > cb[0] and "TERN-GUEST-BOOTED" not in blog,
           "%s: the counter continues on hostb (last on A %s, on B %s..%s), no reboot" %
           (arch, got, cb[0] if cb else None, cb[-1] if cb else None))
        inst.host = "hostb"
        inst.task_state = None
        api.terminate_instance(ctx, inst, bdms=objects.BlockDeviceMappingList(objects=[]))
        ok(wait_for("instance_update", lambda kw: kw["uuid"] == inst.uuid and
                    kw["updates"].get("vm_state") == "deleted", 60) is not None,
           "%s: terminated on hostb" % arch)

    # ------------------------------ 3. the destination dies mid-migration
    # a slow migration: hosta's tern-compute again, restarted with a low
    # bandwidth (a restart it must survive: reconcile with its guests)
    stop_daemon(pa)
    pa = start_host_daemon("hosta", "live_migration_bandwidth = 1\n")
    wait_for("compute_node_report", lambda kw: kw["host"] == "hosta", START_TIMEOUT, alive=pa)
    inst = make_instance("hosta", "busybox-x86_64", memory_mb=256, root_gb=0)
    build(inst, "hosta", image_for("x86_64"))
    ok(wait_for("instance_update", lambda kw: kw["uuid"] == inst.uuid and
                kw["updates"].get("vm_state") == "active", 60) is not None,
       "a third guest runs on hosta")
    inst.vm_state = "active"
    wait_file(console("hosta", inst.uuid), r"TERN-GUEST-COUNT 3", 120)
    pidfile = os.path.join(H["hostb"]["dir"], "run", "libvirtd.pid")

    def kill_dest(mig):
        wait_for("migration_update", lambda kw: kw["uuid"] == mig.uuid and
                 kw["updates"].get("status") == "running", 60)
        pid = int(open(pidfile).read().strip())
        os.kill(pid, signal.SIGKILL)

    mig, st, secs = migrate(inst, during=kill_dest, timeout=300)
    ok(st is not None and st["updates"]["status"] in ("error", "failed") and
       st["updates"].get("error"), "destination libvirtd killed: migration %s (%s)" %
       (st and st["updates"]["status"], st and st["updates"].get("error", "")[:120]))
    rc, state = virsh(H["hosta"]["uri"], "domstate", inst.uuid)
    ok(rc == 0 and state == "running", "the guest still runs on hosta (%s)" % state)
    c1 = counts(console("hosta", inst.uuid))
    time.sleep(3)
    c2 = counts(console("hosta", inst.uuid))
    ok(c1 and c2 and c2[-1] > c1[-1], "and keeps counting on hosta (%s -> %s)" %
       (c1[-1] if c1 else None, c2[-1] if c2 else None))
    # hostb's libvirtd comes back: nothing of the instance is defined there
    subprocess.run([hosts_script, "netexec", "hostb", "/usr/sbin/libvirtd", "-d", "--listen",
                    "-p", "/run/libvirt/libvirtd.pid"], check=False)
    end = time.time() + 60
    out = None
    while time.time() < end:
        rc, out = virsh(H["hostb"]["uri"], "list", "--all", "--uuid")
        if rc == 0:
            break
        time.sleep(1)
    time.sleep(5)   # the rollback cast reaches hostb's tern-compute once libvirt is back
    rc, out = virsh(H["hostb"]["uri"], "list", "--all", "--uuid")
    ok(rc == 0 and inst.uuid not in out, "nothing of the instance is defined on hostb")
    api.terminate_instance(ctx, inst, bdms=objects.BlockDeviceMappingList(objects=[]))
    wait_for("instance_update", lambda kw: kw["uuid"] == inst.uuid and
             kw["updates"].get("vm_state") == "deleted", 60)
except StopIteration:
    pass
finally:
    for p in daemons:
        if p.poll() is None:
            stop_daemon(p)
    if started_hosts:
        subprocess.run([os.path.join(SRCDIR, "scripts", "hosts"), "stop", "hosta", "hostb"],
                       capture_output=True)
    finish([])
