#!/usr/bin/python3
"""test-live-migration-e2e.py: issue 9's acceptance through the whole stack
(tests/e2e/migration_world.py: real RabbitMQ + PostgreSQL, tern-conductor,
tern-scheduler, one real tern-compute in each of two namespaced libvirt
hosts). For a TCG x86_64 guest (256 MiB, Nehalem + aes) and a ppc64le
pseries guest (512 MiB), each booted through the conductor (Nova's
ComputeTaskAPI schedule_and_build_instances) and live-migrated with NO
target host (the scheduler picks the other host):

  - the migration record ends `completed`, progress was reported (the
    record was seen `running` with memory figures from libvirt's job stats
    at least once while it ran);
  - the domain runs on the new host and is gone from the old one;
  - instances.host in PostgreSQL is the new host;
  - the claims moved: the instance is allocated on the new host only, the
    migration's own hold is gone, and each host's usage changed by exactly
    the guest's size (nothing counted twice);
  - the serial-console counter continues on the new host where it stopped
    on the old one (no TERN-GUEST-BOOTED there: the guest moved, it did
    not reboot);
  - then forced back to the first host (the conductor's forced-host checks
    instead of the scheduler): completed, host and claims back.

Skips without services, root (namespaces) or guest assets."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import migration_world as mw  # noqa: E402

mw.skip_unless_ready()
w = mw.MigrationWorld("lme2e")
tap = w.tap
failed = True
try:
    for arch in ("x86_64", "ppc64le"):
        mem = mw.MEMORY[arch]
        t0 = time.time()
        u = w.boot(arch)
        src = w.host_of(u)
        dst = w.other(src) if src else None
        tap.check("%s guest built through the conductor: ACTIVE on %s (%.1f s)" %
                  (arch, src, time.time() - t0), src in w.names)
        last_a = w.wait_count(src, u, 3)
        tap.check("%s guest counts on %s (COUNT %s)" % (arch, src, last_a), last_a is not None,
                  w.console_text(src, u)[-500:])
        use_src0, use_dst0 = w.usage(src), w.usage(dst)
        last_a = w.counts(src, u)[-1]   # the source's console goes with the guest
        t0 = time.time()
        mig = w.live_migrate(u, via="nova" if arch == "x86_64" else "admin")
        m = w.wait_migration(mig, timeout=180)
        secs = time.time() - t0
        tap.check("%s live migration without a target host: %s -> %s %s in %.1f s" %
                  (arch, m and m["source_compute"], m and m["dest_compute"],
                   m and m["status"], secs),
                  m is not None and m["status"] == "completed" and m["source_compute"] == src
                  and m["dest_compute"] == dst, m)
        time.sleep(0.5)   # the watcher's last sample
        # A 512 MiB guest moves in well under a second: its one `running`
        # report may come before libvirt has figures; the final report
        # carries the completed job's.
        running = [s for s in w.samples(mig) if s[0] == "running"]
        tap.check("%s: progress reported (%d running samples seen, %d with memory figures; "
                  "final processed %s of %s bytes)" %
                  (arch, len(running), len([s for s in running if s[2] > 0]),
                   m and m["memory_processed"], m and m["memory_total"]),
                  len(running) >= 1 and m and m["memory_processed"] > 0 and
                  m["memory_total"] > 0, w.samples(mig))
        tap.check("%s: the domain runs on %s" % (arch, dst), w.domstate(dst, u) == "running",
                  w.domstate(dst, u))
        tap.check("%s: the domain is gone from %s" % (arch, src), w.domstate(src, u) is None)
        tap.check("%s: instances.host = %s in PostgreSQL" % (arch, dst), w.host_of(u) == dst,
                  w.host_of(u))
        allocs = w.allocations(u, mig)
        use_src1, use_dst1 = w.usage(src), w.usage(dst)
        tap.check("%s: claims moved: allocated on %s only, no migration hold left (%s)" %
                  (arch, dst, allocs), allocs == [(u, dst)], allocs)
        tap.check("%s: usage: %s %s -> %s MiB, %s %s -> %s MiB (exactly once)" %
                  (arch, src, use_src0[1], use_src1[1], dst, use_dst0[1], use_dst1[1]),
                  use_src0[1] - use_src1[1] == mem and use_dst1[1] - use_dst0[1] == mem and
                  use_src0[0] - use_src1[0] == 1 and use_dst1[0] - use_dst0[0] == 1,
                  (use_src0, use_src1, use_dst0, use_dst1))
        s = w.nova.server(u)
        tap.check("%s: the instance is ACTIVE with no task on %s" % (arch, dst),
                  s["vm_state"] == "active" and not s.get("task_state") and s["host"] == dst, s)
        last_b = w.wait_count(dst, u, (w.counts(dst, u) or [0])[0] + 2, timeout=30)
        cb = w.counts(dst, u)
        tap.check("%s: the counter continues on %s (last seen on %s %s, on %s %s..%s), "
                  "no reboot" % (arch, dst, src, last_a, dst,
                                 cb[0] if cb else None, last_b),
                  bool(cb) and cb[0] >= last_a and last_b is not None and
                  "TERN-GUEST-BOOTED" not in w.console_text(dst, u),
                  w.console_text(dst, u)[-400:])
        # and back, to a forced host (the conductor's own checks instead of
        # the scheduler's)
        t0 = time.time()
        back = w.live_migrate(u, host=src, via="admin")
        m = w.wait_migration(back, timeout=180)
        tap.check("%s: forced back to %s: %s in %.1f s, host %s, claims %s" %
                  (arch, src, m and m["status"], time.time() - t0, w.host_of(u),
                   w.allocations(u, back)),
                  m is not None and m["status"] == "completed" and w.host_of(u) == src and
                  w.allocations(u, back) == [(u, src)] and w.domstate(src, u) == "running" and
                  w.domstate(dst, u) is None, m)
        tap.check("%s: deleted through the conductor, claims released" % arch,
                  w.delete(u) and w.allocations(u) == [] and w.domstate(src, u) is None)
    failed = False
finally:
    rc = tap.done()
    w.clean(keep=failed or rc != 0)
sys.exit(rc)
