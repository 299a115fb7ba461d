#!/usr/bin/python3
"""test-faults-migration-e2e.py: faults in the middle of a live migration of
a real QEMU/TCG guest between two namespaced libvirt hosts
(tests/e2e/migration_world.py: real RabbitMQ + PostgreSQL, tern-conductor,
tern-scheduler, a real tern-compute in each host). The source computes are
limited to 1 MiB/s so that a migration of the 256 MiB guest runs for
minutes; the test speeds a running migration up with `virsh
migrate-setspeed` on the source's libvirtd when it wants it to finish.

  A. tern-conductor SIGKILLed while a migration runs, restarted: the source
     keeps migrating and reports to the new conductor; completed, the
     instance and its claim moved once;
  B. the link between the hosts cut (the destination's interface down
     inside its network namespace) while a migration runs: libvirt fails
     the migration, the source reports it, the guest keeps running on the
     source, claims restored; once the link is back nothing of the instance
     is left on the destination;
  C. the source's tern-compute SIGKILLed while its migration runs, restarted:
     its start-up reconcile resolves the migration against libvirt (guest
     still here: error, a job libvirtd still runs is aborted; guest gone:
     completed);
  D. the destination's tern-compute SIGKILLed while a migration to it runs,
     restarted: the migration ends, the instance recorded where it runs;
  E. tern-scheduler frozen (SIGSTOP) while a migration with no target host
     waits for its select_destinations, then SIGKILLed and restarted: the
     request it never acknowledged goes to the new scheduler (or the
     conductor's call times out and the migration ends in error); the
     instance ends in one place either way.

After each: the guest runs on exactly one host (asked of both libvirtds),
the one recorded; one claim, there; its console counter goes on.
Skips without services, root (namespaces) or guest assets."""
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import migration_world as mw  # noqa: E402

mw.skip_unless_ready()
COND = {"conductor": {"stuck_migration_timeout": 120, "stuck_build_timeout": 300,
                      "recovery_interval": 2}}
w = mw.MigrationWorld("lmfault", conductor_opts=COND)
tap = w.tap
failed = True
SLOW = {"live_migration_bandwidth": 1}   # MiB/s


def wait_running(mig, timeout=60):
    return w.wait_migration(mig, timeout, statuses=("running",) + mw.FINAL)


def speed_up(host, u):
    return w.virsh(host, "migrate-setspeed", u, "--bandwidth", "10000")


def one_place(label, u, expect):
    """The guest runs on exactly one host, the recorded one, with one claim
    (libvirt may take some seconds to remove an aborted incoming domain)."""
    mw.env.wait_for(lambda: all(w.domstate(h, u) is None for h in w.names if h != expect),
                    60, 1)
    states = {h: w.domstate(h, u) for h in w.names}
    running = [h for h, s in states.items() if s == "running"]
    s = w.nova.server(u)
    allocs = w.allocations()
    tap.check("%s: the guest runs on %s only (%s), recorded there, no task, one claim there"
              % (label, expect, states),
              running == [expect] and all(states[h] is None for h in w.names if h != expect)
              and w.host_of(u) == expect and not s.get("task_state") and
              allocs == [(u, expect)] and w.usage(w.other(expect)) == (0, 0),
              (states, s, allocs))
    c = w.counts(expect, u)
    last = c[-1] if c else 0
    tap.check("%s: its console counter goes on on %s" % (label, expect),
              w.wait_count(expect, u, last + 2, timeout=30) is not None, w.counts(expect, u))


def iface(host):
    """The host's interface on the private bridge (not lo)."""
    r = subprocess.run([mw.HOSTS_SCRIPT, "netexec", host, "ip", "-o", "link", "show"],
                       capture_output=True, text=True, timeout=30)
    for line in r.stdout.splitlines():
        name = line.split(":")[1].strip().split("@")[0]
        if name != "lo":
            return name
    return None


def link(host, state):
    return subprocess.run([mw.HOSTS_SCRIPT, "netexec", host, "ip", "link", "set", "dev",
                           iface(host), state], capture_output=True, text=True, timeout=30)


try:
    for h in w.names:
        w.restart_compute(h, SLOW)
    u = w.boot("x86_64", host="hosta")
    tap.check("an x86_64 guest runs on hosta", w.host_of(u) == "hosta" and
              w.wait_count("hosta", u, 2) is not None)

    # --- A. conductor SIGKILLed mid-migration ------------------------------------
    mig = w.live_migrate(u, host="hostb", via="admin")
    r = wait_running(mig)
    tap.check("A. a slow migration hosta -> hostb runs", r is not None and
              r["status"] == "running", r)
    time.sleep(1)
    w.world.kill("cond1", signal.SIGKILL)
    time.sleep(2)
    w.world.start_conductor(opts=COND)
    speed_up("hosta", u)
    m = w.wait_migration(mig, 180)
    tap.check("A. conductor killed mid-migration and restarted: the migration completed "
              "(%s)" % (m and m["status"]), m is not None and m["status"] == "completed", m)
    one_place("A. conductor kill -9", u, "hostb")

    # --- B. link cut between the hosts mid-migration ---------------------------------
    mig = w.live_migrate(u, host="hosta", via="admin")
    r = wait_running(mig)
    tap.check("B. a slow migration hostb -> hosta runs", r is not None and
              r["status"] == "running", r)
    time.sleep(1)
    cut = link("hosta", "down")
    tap.check("B. hosta's link cut (ip link set down in its netns)", cut.returncode == 0,
              cut.stderr)
    m = w.wait_migration(mig, 240)
    tap.check("B. the cut migration ends failed or error with a reason (%s: %s)" %
              (m and m["status"], m and (m["error"] or "")[:120]),
              m is not None and m["status"] in ("failed", "error") and m["error"], m)
    back = link("hosta", "up")
    tap.check("B. link back up", back.returncode == 0, back.stderr)
    gone = mw.env.wait_for(lambda: w.domstate("hosta", u) is None, 120, 1)
    tap.check("B. once the link is back nothing of the instance is left on hosta",
              gone is not None, w.domstate("hosta", u))
    one_place("B. link cut", u, "hostb")

    # --- C. source tern-compute SIGKILLed mid-migration, restarted ---------------------
    mig = w.live_migrate(u, host="hosta", via="admin")
    r = wait_running(mig)
    tap.check("C. a slow migration hostb -> hosta runs", r is not None and
              r["status"] == "running", r)
    time.sleep(1)
    w.world.kill("hostb", signal.SIGKILL)
    speed_up("hostb", u)       # if libvirtd goes on alone, let it finish
    time.sleep(5)
    tap.note("C. with hostb's tern-compute dead: hosta %s, hostb %s" %
             (w.domstate("hosta", u), w.domstate("hostb", u)))
    w.start_compute("hostb", SLOW)
    m = w.wait_migration(mig, 120)
    tap.check("C. source compute killed mid-migration: the restarted compute resolved the "
              "migration against libvirt (%s: %s)" % (m and m["status"],
                                                        m and (m["error"] or "")[:120]),
              m is not None and m["status"] in mw.FINAL, m)
    one_place("C. source compute kill -9", u, w.host_of(u))

    # --- D. destination tern-compute SIGKILLed mid-migration ----------------------------
    src = w.host_of(u)
    dst = w.other(src)
    mig = w.live_migrate(u, host=dst, via="admin")
    r = wait_running(mig)
    tap.check("D. a slow migration %s -> %s runs" % (src, dst), r is not None and
              r["status"] == "running", r)
    time.sleep(1)
    w.world.kill(dst, signal.SIGKILL)
    speed_up(src, u)
    m = w.wait_migration(mig, 180)
    tap.note("D. with %s's tern-compute dead: migration %s (%s)" %
             (dst, m and m["status"], m and (m["error"] or "")[:160]))
    w.start_compute(dst, SLOW)
    tap.check("D. destination compute killed mid-migration: the migration ended",
              m is not None and m["status"] in mw.FINAL, m)
    time.sleep(3)
    one_place("D. destination compute kill -9", u, w.host_of(u))

    # --- E. scheduler frozen, then SIGKILLed, while a migration is being scheduled ------
    src = w.host_of(u)
    w.world.procs["sched1"].send_signal(signal.SIGSTOP)
    asked = {}

    def ask():
        try:
            asked["mig"] = w.live_migrate(u, via="admin")   # no target: the scheduler picks
        except Exception as e:  # noqa: BLE001
            asked["error"] = e

    t = threading.Thread(target=ask)
    t.start()
    time.sleep(3)
    w.world.kill("sched1", signal.SIGKILL)
    tap.check("E. the migration request waits for the frozen scheduler", t.is_alive() or
              "mig" in asked or "error" in asked, asked)
    w.world.start_scheduler()
    t.join(150)
    mig = asked.get("mig")
    if mig:
        r = wait_running(mig, 90)
        if r is not None and r["status"] == "running":
            speed_up(src, u)
        m = w.wait_migration(mig, 180)
        tap.check("E. scheduler killed while scheduling, restarted: the migration ended "
                  "(%s: %s)" % (m and m["status"], m and (m["error"] or "")[:120]),
                  m is not None and m["status"] in mw.FINAL, m)
    else:
        tap.check("E. scheduler killed while scheduling, restarted: the request was refused "
                  "with a reason (%s)" % str(asked.get("error"))[:160],
                  "error" in asked and str(asked["error"]), asked)
    time.sleep(3)
    one_place("E. scheduler kill -9", u, w.host_of(u))

    bad = mw.env.sanitizer_reports(w.log, ("cond1", "sched1", "hosta", "hostb"))
    tap.check("no sanitizer report, no GLib critical", not bad, "\n".join(bad[:20]))
    failed = bool(tap.failed)
except Exception:  # noqa: BLE001
    import traceback
    tap.check("test ran to the end", False, traceback.format_exc())
finally:
    mw.env.close_nova_transport()
    if tap.failed:
        for key in ("cond1", "hosta", "hostb"):
            sys.stderr.write("==== %s\n%s\n" % (key, w.log(key)[-5000:]))
    w.clean(keep=bool(tap.failed))
rc = tap.done()
sys.stdout.flush()
os._exit(rc)
