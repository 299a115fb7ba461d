#!/usr/bin/python3
"""test-live-migration-failures-e2e.py: live migrations that must not move
the guest, through the whole stack (tests/e2e/migration_world.py: real
RabbitMQ + PostgreSQL, tern-conductor, tern-scheduler, a real tern-compute in
each of two namespaced libvirt hosts), one x86_64 TCG guest on hosta:

  1. a destination whose CPU lacks a feature the guest CPU needs: refused
     before anything moves, the missing features named. A real QEMU host on
     this machine has this machine's CPU, so the poorer destination is a
     third tern-compute ("hostc") on libvirt's test driver with simulated
     host facts (tests/data/hosts/x86_64 with its CPU replaced by a Penryn,
     which lacks the guest's Nehalem features such as sse4.2 / popcnt): the
     forced migration is refused by the conductor's check, and with hostb
     disabled the scheduler finds no valid host, naming the CPU;
  2. Nova's live_migration_abort (`tern migration abort`, tern_admin
     migration_abort) of a slow
     migration (hosta's tern-compute limited to 1 MiB/s): `cancelled`, the
     guest still runs on hosta, claims back, nothing left on hostb;
  3. hostb's libvirtd killed (SIGKILL) in the middle of a slow migration:
     `error` with libvirt's reason, the guest runs on hosta and its console
     counter keeps going, claims back, and once hostb's libvirtd is back
     nothing of the instance is defined there;
  4. Nova's live_migration_force_complete, sent by python3-nova's own
     ComputeAPI client, of a slow migration with post-copy permitted:
     it completes on hostb within seconds instead of minutes, the counter
     continuing there.

Skips without services, root (namespaces) or guest assets."""
import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import migration_world as mw  # noqa: E402

mw.skip_unless_ready()
w = mw.MigrationWorld("lmfail")
tap = w.tap
failed = True
SLOW = {"live_migration_bandwidth": 1}   # MiB/s: a 256 MiB guest takes minutes


def nothing_moved(u, what, src="hosta", dst="hostb"):
    tap.check("%s: the guest runs on %s, instances.host = %s, task cleared" % (what, src, src),
              w.domstate(src, u) == "running" and w.host_of(u) == src and
              not w.nova.server(u).get("task_state"), (w.domstate(src, u), w.nova.server(u)))
    allocs = w.allocations()
    tap.check("%s: claims as before: only %s on %s (%s)" % (what, u[:8], src, allocs),
              allocs == [(u, src)], allocs)


def absent(host, u):
    """host's libvirtd answers and has no domain of instance u."""
    d = w.defined(host)
    return d is not None and u not in d


def wait_running(mig, timeout=60):
    return w.wait_migration(mig, timeout, statuses=("running",) + mw.FINAL)


try:
    w.restart_compute("hosta", SLOW)
    u = w.boot("x86_64", host="hosta")
    tap.check("an x86_64 guest runs on hosta, built through the conductor",
              w.host_of(u) == "hosta")
    tap.check("its counter runs", w.wait_count("hosta", u, 3) is not None)

    # ---------------------------------------------- 1. destination CPU lacks features
    facts = os.path.join(w.tmp, "facts-penryn")
    shutil.copytree(os.path.join(mw.SRC, "tests", "data", "hosts", "x86_64"), facts)
    caps = os.path.join(facts, "capabilities.xml")
    text = re.sub(r"<host>(\s*<uuid>[^<]*</uuid>\s*)<cpu>.*?</cpu>",
                  r"<host>\1<cpu>\n      <arch>x86_64</arch>\n      <model>Penryn</model>\n"
                  r"      <vendor>Intel</vendor>\n      <topology sockets='1' dies='1' "
                  r"clusters='1' cores='2' threads='1'/>\n    </cpu>", open(caps).read(),
                  count=1, flags=re.S)
    open(caps, "w").write(text)
    w.world.start_compute("hostc", facts, w.images, "qemu")
    tap.check("hostc (simulated Penryn host facts) reports",
              mw.env.wait_for(lambda: any(h["host"] == "hostc" for h in
                                          w.nova.admin_call("host_list")), 60) is not None)
    from nova import exception as nova_exception
    try:
        w.live_migrate(u, host="hostc")
        tap.check("forced migration to hostc refused", False)
    except nova_exception.MigrationPreCheckError as e:
        tap.check("forced migration to hostc refused before anything moves, naming the "
                  "missing features: %s" % str(e)[:160],
                  "hostc" in str(e) and "lacks features" in str(e) and "sse4.2" in str(e),
                  str(e))
    rows = w.query("SELECT status, error FROM migrations WHERE instance_uuid = %s", u)
    tap.check("the refused migration's record keeps the reason (%s)" % (rows and rows[-1][0]),
              len(rows) == 1 and rows[0][0] in ("error", "failed") and
              "sse4.2" in (rows[0][1] or ""), rows)
    nothing_moved(u, "CPU refusal")
    tap.check("CPU refusal: nothing was defined on hostb", absent("hostb", u))
    w.nova.admin_call("host_set_enabled", host="hostb", enabled=False, reason="test")
    time.sleep(1.5)
    try:
        w.live_migrate(u)
        tap.check("with hostb disabled, the scheduler finds no valid host", False)
    except nova_exception.NoValidHost as e:
        tap.check("with hostb disabled, no target host: NoValidHost naming the CPU (%s)" %
                  str(e)[:200], "CpuModelFilter" in str(e) or "CPU" in str(e), str(e))
    nothing_moved(u, "no valid host")
    w.nova.admin_call("host_set_enabled", host="hostb", enabled=True)
    w.nova.admin_call("host_set_enabled", host="hostc", enabled=False, reason="done")
    time.sleep(1.5)

    # ---------------------------------------------- 2. abort
    mig = w.live_migrate(u)
    r = wait_running(mig)
    tap.check("a slow migration (1 MiB/s) to hostb runs (%s)" % (r and r["status"]),
              r is not None and r["status"] == "running" and r["dest_compute"] == "hostb", r)
    time.sleep(1)
    rc_, out, err = w.cli("migration", "abort", mig)
    tap.check("`tern migration abort` accepted", rc_ == 0 and mig in out, out + err)
    m = w.wait_migration(mig, 60)
    tap.check("aborted: migration %s (%s)" % (m and m["status"], m and (m["error"] or "")[:100]),
              m is not None and m["status"] == "cancelled", m)
    nothing_moved(u, "abort")
    tap.check("abort: nothing of the instance left on hostb",
              mw.env.wait_for(lambda: absent("hostb", u), 30) is not None,
              w.defined("hostb"))
    try:
        w.abort(mig)
        tap.check("a second abort refused", False)
    except Exception as e:  # noqa: BLE001
        tap.check("abort of a finished migration: InvalidMigrationState (%s)" % str(e)[:100],
                  "InvalidMigrationState" in type(e).__name__ or "Cannot abort" in str(e),
                  str(e))

    # ---------------------------------------------- 3. destination libvirtd killed
    c0 = w.counts("hosta", u)[-1]
    mig = w.live_migrate(u)
    r = wait_running(mig)
    tap.check("another slow migration to hostb runs", r is not None and r["status"] == "running",
              r)
    time.sleep(1)
    w.kill_libvirtd("hostb")
    m = w.wait_migration(mig, 120)
    tap.check("hostb's libvirtd killed: migration %s (%s)" %
              (m and m["status"], m and (m["error"] or "")[:120]),
              m is not None and m["status"] in ("error", "failed") and m["error"], m)
    nothing_moved(u, "destination killed")
    c1 = w.counts("hosta", u)[-1]
    c2 = w.wait_count("hosta", u, c1 + 2, timeout=20)
    tap.check("destination killed: the counter keeps going on hosta (%s before, %s -> %s)" %
              (c0, c1, c2), c2 is not None and c1 > c0)
    tap.check("hostb's libvirtd restarted", w.start_libvirtd("hostb"))
    gone = mw.env.wait_for(lambda: absent("hostb", u), 30, 1)
    tap.check("destination killed: nothing of the instance is defined on hostb once its "
              "libvirtd is back", gone is not None, w.defined("hostb"))

    # ---------------------------------------------- 4. force complete (post-copy)
    w.restart_compute("hosta", dict(SLOW, live_migration_permit_post_copy="true"))
    last_a = w.wait_count("hosta", u, w.counts("hosta", u)[-1] + 1, timeout=20)
    mig = w.live_migrate(u)
    r = wait_running(mig)
    tap.check("a slow migration with post-copy permitted runs", r is not None and
              r["status"] == "running", r)
    time.sleep(1)
    last_a = w.counts("hosta", u)[-1]
    t0 = time.time()
    # Nova's own client this time (as Nova's API does it): name, arguments
    # and version as python3-nova sends them
    from nova.compute import rpcapi as compute_rpcapi
    o = w.nova.objects
    compute_rpcapi.ComputeAPI().live_migration_force_complete(
        w.nova.ctx, o.Instance(uuid=u, host="hosta"),
        o.Migration(uuid=mig, source_compute="hosta", dest_compute="hostb"))
    m = w.wait_migration(mig, 90)
    tap.check("force-complete: migration %s %.1f s after the request (%s)" %
              (m and m["status"], time.time() - t0, m and (m["error"] or "")[:100]),
              m is not None and m["status"] == "completed", m)
    tap.check("force-complete: the guest runs on hostb, gone from hosta, host = hostb, "
              "claims on hostb only",
              w.domstate("hostb", u) == "running" and w.domstate("hosta", u) is None and
              w.host_of(u) == "hostb" and w.allocations() == [(u, "hostb")],
              (w.domstate("hostb", u), w.host_of(u), w.allocations()))
    cb0 = (w.counts("hostb", u) or [0])[0]
    lb = w.wait_count("hostb", u, cb0 + 2, timeout=30)
    tap.check("force-complete: the counter continues on hostb (%s on hosta, %s..%s on hostb)"
              % (last_a, cb0, lb), lb is not None and cb0 >= last_a and
              "TERN-GUEST-BOOTED" not in w.console_text("hostb", u))
    try:
        w.force_complete(mig)
        tap.check("force-complete of a completed migration refused", False)
    except Exception as e:  # noqa: BLE001
        tap.check("tern_admin migration_force_complete of a completed migration: "
                  "InvalidMigrationState (%s)" % str(e)[:90], "Cannot force-complete" in str(e),
                  str(e))
    tap.check("deleted through the conductor", w.delete(u))
    failed = False
finally:
    rc = tap.done()
    w.clean(keep=failed or rc != 0)
sys.exit(rc)
