#!/usr/bin/python3
"""test-conductor.py: tern-conductor's flows with the real tern-scheduler on
real RabbitMQ + PostgreSQL, driven through python3-nova's ComputeTaskAPI
client: builds placed by arch, a failed build rescheduled to the alternate,
max_attempts, no valid host -> ERROR with a fault, forced live migration
refused for a missing CPU feature / another arch and completed to a
compatible host, a migration the source reports failed, one nobody reports
on, a scheduler-chosen live migration, the writes computes make
(idempotent), the admin methods, and a conductor killed with SIGKILL in the
middle of a build.

The computes are test peers (conductor_env.PeerCompute) serving the compute
methods of docs/tern-rpc.md with simulated outcomes (a build that fails, a
migration that fails or never reports), which a real hypervisor cannot be
made to do on demand."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import conductor_env as env  # noqa: E402

env.skip_unless_services()
tap = env.Tap()
world = env.World("cond")
computes = {}
try:
    world.start_scheduler()
    world.start_conductor()
    nova = env.Nova(world)
    from nova import exception as nova_exception

    SKY = "Skylake-Client-IBRS"
    nodes = {
        "x86-a": env.x86_node("x86-a", SKY),
        "x86-c": env.x86_node("x86-c", SKY),
        "x86-old": env.x86_node("x86-old", "Haswell-noTSX"),
        # the roomiest host: the scheduler's first choice once enabled
        "x86-bad": env.x86_node("x86-bad", SKY, vcpus=64, memory_mb=262144),
        "p9": env.power9_node("p9"),
    }
    for h, n in nodes.items():
        computes[h] = env.PeerCompute(nova, h, n, fail_builds=(h == "x86-bad"))
    X86 = ("x86-a", "x86-c")

    # --- writes for computes and admin views ------------------------------------
    hosts = {h["host"]: h for h in nova.admin_call("host_list")}
    tap.check("compute_node_report wrote every host (host_list shows 5)",
              set(hosts) == set(nodes), hosts.keys())
    tap.check("host_list: arch, CPU model and state up from the reports",
              hosts["p9"]["arch"] == "ppc64le" and hosts["x86-old"]["cpu_model"] ==
              "Haswell-noTSX" and hosts["x86-a"]["state"] == "up", hosts.get("p9"))
    show = nova.admin_call("host_show", host="p9")
    tap.check("host_show: supported_instances and machine types",
              ["ppc64le", "qemu", "hvm"] in show["supported_instances"]
              and show["machine_types"] == ["pseries-10.0"], show)
    try:
        nova.admin_call("host_show", host="nosuch")
        tap.check("host_show of an unknown host fails", False)
    except nova_exception.ComputeHostNotFound as e:
        tap.check("host_show of an unknown host: ComputeHostNotFound", "nosuch" in str(e))
    gen1 = nova.tern_call("compute_node_report", host="p9", node=nodes["p9"])["generation"]
    gen2 = nova.tern_call("compute_node_report", host="p9", node=nodes["p9"])["generation"]
    tap.check("compute_node_report twice: an unchanged report keeps the generation",
              gen2 == gen1, (gen1, gen2))
    n_rows = world.query("SELECT count(*) FROM compute_nodes WHERE host = 'p9'")[0][0]
    tap.check("compute_node_report is an upsert (one row)", n_rows == 1, n_rows)
    svc = world.query("SELECT report_count FROM services WHERE binary_name = 'tern-compute' "
                      "AND host = 'x86-a'")
    tap.check("service_report / compute_node_report keep the services row", svc and
              svc[0][0] >= 1, svc)
    for h in ("x86-bad", "x86-old"):
        r = nova.admin_call("host_set_enabled", host=h, enabled=False, reason="test: held back")
    tap.check("host_set_enabled: disabled with the reason",
              r["disabled"] and r["disabled_reason"] == "test: held back", r)
    time.sleep(1)   # the scheduler's cache follows the change feed

    # --- builds land on the right arch -------------------------------------------------
    ux = nova.build("vm-x86", "x86_64")
    up = nova.build("vm-ppc", "ppc64le")
    sx = nova.wait_state(ux, ["active", "error"])
    sp = nova.wait_state(up, ["active", "error"])
    tap.check("x86_64 image: ACTIVE on an x86 host", sx and sx["vm_state"] == "active"
              and sx["host"] in X86, sx)
    tap.check("ppc64le image: ACTIVE on the POWER9 host", sp and sp["vm_state"] == "active"
              and sp["host"] == "p9", sp)
    tap.check("the scheduler's claims hold the instances on their hosts",
              world.allocations(ux, up) == sorted([(ux, sx["host"]), (up, "p9")]),
              world.allocations(ux, up))
    tap.check("the compute got build_and_run_instance with the image and node",
              any(b["uuid"] == up and b["node"] == "p9" and
                  b["image"]["properties"]["hw_architecture"] == "ppc64le"
                  for b in computes["p9"].builds), computes["p9"].builds)
    tap.check("guest CPU and machine type recorded from the compute's instance_update",
              sp and sp["guest_cpu"] and sp["guest_cpu"].get("model") == "POWER9"
              and sp["image_properties"].get("machine_type") == "pseries-10.0", sp)

    # --- tern_admin server_create, forced to a host ------------------------------------
    import uuid as uuidlib
    made = nova.admin_call("server_create", name="vm-admin",
                           image={"id": str(uuidlib.uuid4()),
                                  "properties": {"hw_architecture": "x86_64",
                                                 "os_distro": "debian11"}},
                           flavor={"name": "m1.tiny", "vcpus": 1, "memory_mb": 256},
                           host="x86-c", count=2)
    tap.check("server_create returns the instances BUILDING at once",
              [m["name"] for m in made] == ["vm-admin-1", "vm-admin-2"] and
              all(m["vm_state"] == "building" for m in made), made)
    states = [nova.wait_state(m["uuid"], ["active", "error"]) for m in made]
    tap.check("server_create with host: both ACTIVE on the requested host",
              all(st and st["vm_state"] == "active" and st["host"] == "x86-c" for st in states),
              states)
    try:
        nova.admin_call("server_create", name="bad", image={"id": "x"}, flavor={"vcpus": "a"})
        tap.check("server_create with a bad flavor fails", False)
    except Exception as e:  # noqa: BLE001 (a RemoteError naming the problem)
        tap.check("server_create with a bad flavor: an error naming it", "flavor" in str(e), e)

    # --- a failing compute: reschedule to the alternate ------------------------------
    nova.admin_call("host_set_enabled", host="x86-bad", enabled=True)
    time.sleep(1)
    ur = nova.build("vm-resched", "x86_64")
    sr = nova.wait_state(ur, ["active", "error"])
    tap.check("x86-bad (the scheduler's first choice) got the build first",
              any(b["uuid"] == ur for b in computes["x86-bad"].builds),
              [b["uuid"] for b in computes["x86-bad"].builds])
    tap.check("its failure is rescheduled to an alternate: ACTIVE there",
              sr and sr["vm_state"] == "active" and sr["host"] in X86, sr)
    tap.check("the failure is kept as a fault naming the host and reason",
              sr and any("x86-bad" in f["message"] and "simulated" in f["message"]
                         for f in sr["faults"]), sr and sr["faults"])
    tap.check("claims: only the alternate holds the instance (x86-bad's claim released)",
              sr and world.allocations(ur) == [(ur, sr["host"])], world.allocations(ur))

    # --- every host fails: max_attempts -> ERROR -------------------------------------
    for h in X86:
        computes[h].fail_builds = True
    um = nova.build("vm-maxed", "x86_64")
    sm = nova.wait_state(um, ["active", "error"])
    for h in X86:
        computes[h].fail_builds = False
    tap.check("every attempt failing: ERROR with a fault naming max_attempts",
              sm and sm["vm_state"] == "error" and
              any("max_attempts = 3" in f["message"] for f in sm["faults"]), sm)
    tap.check("max_attempts: three hosts tried, no claim left", sm and
              sum(1 for c in computes.values() for b in c.builds if b["uuid"] == um) == 3
              and not world.allocations(um), world.allocations(um))
    nova.admin_call("host_set_enabled", host="x86-bad", enabled=False, reason="test: broken")

    # --- no valid host --------------------------------------------------------------
    un = nova.build("vm-arm", "aarch64")
    sn = nova.wait_state(un, ["active", "error"])
    tap.check("no valid host: ERROR", sn and sn["vm_state"] == "error", sn)
    tap.check("no valid host: the fault says why",
              sn and any(f["message"].startswith("No valid host was found. ") and
                         f["message"].count("No valid host") == 1 and "aarch64" in f["message"]
                         for f in sn["faults"]),
              sn and sn["faults"])
    tap.note("fault: " + (sn["faults"][0]["message"] if sn and sn["faults"] else "none"))

    # --- live migration to a host lacking a CPU feature -------------------------------
    nova.admin_call("host_set_enabled", host="x86-old", enabled=True)
    src = sx["host"]
    other = [h for h in X86 if h != src][0]
    try:
        nova.task_api.live_migrate_instance(nova.ctx, nova.instance(ux), "x86-old",
                                            block_migration=None, disk_over_commit=None,
                                            request_spec=None, async_=False)
        tap.check("forced migration to Haswell host refused", False)
    except nova_exception.MigrationPreCheckError as e:
        msg = str(e)
        tap.check("forced migration to a Haswell host: MigrationPreCheckError", True)
        tap.check("the refusal names the missing CPU features", "lacks features" in msg
                  and "x86-old" in msg and "xsavec" in msg, msg)
        tap.note("refusal: " + msg)
    s = nova.server(ux)
    tap.check("refused: the instance stays on its host with no task",
              s["host"] == src and s["task_state"] is None, s)
    tap.check("refused before anything moved: no compute was asked",
              not computes["x86-old"].calls and not computes[src].calls)
    migs = nova.admin_call("migration_list", instance_uuid=ux)
    tap.check("refused: the migration record is error with the reason",
              migs and migs[0]["status"] == "error" and "lacks" in (migs[0]["error"] or ""),
              migs)
    tap.check("refused: no claim on x86-old",
              not [a for a in world.allocations() if a[1] == "x86-old"])
    try:
        nova.task_api.live_migrate_instance(nova.ctx, nova.instance(up), "x86-a",
                                            block_migration=None, disk_over_commit=None,
                                            request_spec=None, async_=False)
        tap.check("ppc64le instance to an x86 host refused", False)
    except nova_exception.MigrationPreCheckError as e:
        tap.check("ppc64le instance to an x86 host: refused naming the arch",
                  "same arch" in str(e), str(e))

    # --- live migration to a compatible host -----------------------------------------
    def wait_migration(uuid_, timeout=30):
        return env.wait_for(lambda: (lambda x: x if x["status"] in
                                     ("completed", "error", "failed") else None)(
            nova.admin_call("migration_show", uuid=uuid_)), timeout)

    m = nova.admin_call("server_live_migrate", uuid=ux, host=other)
    tap.check("server_live_migrate to %s accepted" % other,
              m["status"] in ("preparing", "running", "completed") and m["dest_compute"] ==
              other, m)
    done = wait_migration(m["uuid"])
    tap.check("migration record completed with progress 100", done and
              done["status"] == "completed" and done["progress"] == 100, done)
    s = nova.server(ux)
    tap.check("instance host updated to the destination, task cleared", s["host"] == other
              and s["task_state"] is None and s["vm_state"] == "active", s)
    tap.check("flow: dest check on the destination, live_migration cast to the source",
              ("check_dest", ux, m["uuid"]) in computes[other].calls
              and ("live_migration", ux, other) in computes[src].calls)
    alloc = world.allocations(ux, m["uuid"])
    tap.check("claims moved: the instance holds the destination only", alloc == [(ux, other)],
              alloc)
    again = nova.tern_call("migration_update", migration_uuid=m["uuid"],
                           updates={"status": "completed"})
    tap.check("migration_update completed twice changes nothing",
              again["status"] == "completed" and world.allocations(ux, m["uuid"]) == alloc,
              (again, world.allocations(ux, m["uuid"])))

    # --- a migration the source reports failed -----------------------------------------
    computes[other].migrate_mode = "fail"
    m = nova.admin_call("server_live_migrate", uuid=ux, host=src)
    done = wait_migration(m["uuid"])
    tap.check("source reports failed: migration failed with the reason",
              done and done["status"] == "failed" and "libvirtd" in (done["error"] or ""), done)
    s = env.wait_for(lambda: (lambda x: x if x["task_state"] is None else None)(
        nova.server(ux)), 10)
    tap.check("failed: the instance stays on its source, task cleared",
              s and s["host"] == other, s)
    tap.check("failed: the destination hold is released, the source claim kept",
              world.allocations(ux, m["uuid"]) == [(ux, other)], world.allocations(ux, m["uuid"]))

    # --- a migration nobody reports on: recovery marks it error ---------------------
    computes[other].migrate_mode = "silent"
    m = nova.admin_call("server_live_migrate", uuid=ux, host=src)
    held = world.allocations(m["uuid"])
    tap.check("silent source: the destination is held by the migration meanwhile",
              held == [(m["uuid"], src)], held)
    done = wait_migration(m["uuid"])
    tap.check("no report for stuck_migration_timeout: migration error with the reason",
              done and done["status"] == "error" and "nothing was reported" in
              (done["error"] or ""), done)
    s = nova.server(ux)
    tap.check("stuck migration recovered: instance on its source, task cleared, hold released",
              s["host"] == other and s["task_state"] is None and
              world.allocations(ux, m["uuid"]) == [(ux, other)],
              (s, world.allocations(ux, m["uuid"])))
    computes[other].migrate_mode = "complete"

    # --- live migration, the scheduler chooses -------------------------------------
    nova.task_api.live_migrate_instance(nova.ctx, nova.instance(ux), None,
                                        block_migration=None, disk_over_commit=None,
                                        request_spec=None, async_=True)
    migs = env.wait_for(lambda: (lambda x: x if x and x[0]["status"] in
                                 ("completed", "error", "failed") and
                                 len(x) == 5 else None)(
        nova.admin_call("migration_list", instance_uuid=ux)), 30)
    last = migs[0] if migs else None
    tap.check("no target: the scheduler chose %s (x86-old lacks CPU features, x86-bad is "
              "disabled, the source is ignored) and it completed" % src,
              last and last["status"] == "completed" and last["dest_compute"] == src, last)
    s = nova.server(ux)
    tap.check("no target: instance host updated, claims on the destination only",
              s["host"] == src and world.allocations(ux) == [(ux, src)],
              (s, world.allocations(ux)))

    # --- instance_update: expected_task_state and idempotency -----------------------
    try:
        nova.tern_call("instance_update", instance_uuid=ux,
                       updates={"task_state": "powering-off"},
                       expected_task_state="rebooting")
        tap.check("instance_update with a wrong expected_task_state fails", False)
    except nova_exception.UnexpectedTaskStateError:
        tap.check("instance_update with a wrong expected_task_state: UnexpectedTaskStateError",
                  nova.server(ux)["task_state"] is None)
    for _ in range(2):
        r = nova.tern_call("instance_update", instance_uuid=ux,
                           updates={"power_state": 4, "vm_state": "stopped", "task_state": None},
                           expected_task_state=None)
    tap.check("instance_update twice: same result (stopped, power 4)",
              r["vm_state"] == "stopped" and r["power_state"] == 4, r)
    for _ in range(2):
        nova.tern_call("instance_fault_create", instance_uuid=ux, code=500,
                       message="disk full", details="trace")
    n_f = world.query("SELECT count(*) FROM instance_faults WHERE instance_uuid = %s "
                      "AND message = 'disk full'", ux)[0][0]
    tap.check("instance_fault_create twice records one fault", n_f == 1, n_f)
    on = nova.tern_call("instances_on_host", host="p9")
    tap.check("instances_on_host lists the host's instances",
              [i["uuid"] for i in on] == [up], on)
    try:
        nova.tern_call("instance_update", instance_uuid=
                       "00000000-0000-0000-0000-000000000000", updates={"vm_state": "active"})
        tap.check("instance_update of an unknown instance fails", False)
    except nova_exception.InstanceNotFound:
        tap.check("instance_update of an unknown instance: InstanceNotFound", True)
    try:
        nova.tern_call("instance_update", instance_uuid="'; DROP TABLE instances; --",
                       updates={"vm_state": "active"})
        tap.check("a hostile uuid is refused", False)
    except Exception as e:  # noqa: BLE001
        tap.check("a hostile uuid is refused with an error and the table survives",
                  world.query("SELECT count(*) FROM instances")[0][0] > 0, e)

    # --- the conductor killed with SIGKILL during a build ----------------------------
    world.procs["sched1"].send_signal(signal.SIGSTOP)
    uk = nova.build("vm-killed", "x86_64")
    row = env.wait_for(lambda: world.query(
        "SELECT vm_state, task_state FROM instances WHERE uuid = %s", uk), 20)
    time.sleep(0.5)
    tap.check("build recorded and waiting on the (stopped) scheduler",
              row == [("building", "scheduling")], row)
    world.kill("cond1", signal.SIGKILL)
    world.procs["sched1"].send_signal(signal.SIGCONT)
    time.sleep(1)
    world.start_conductor()
    sk = nova.wait_state(uk, ["active", "error"], timeout=60)
    tap.check("after kill -9 and restart the instance is not left BUILDING (ACTIVE)",
              sk and sk["vm_state"] == "active" and sk["host"] in X86 + ("x86-old",), sk)
    tap.check("the restarted conductor logged the recovery",
              "scheduling it again" in world.log("cond1"))
    tap.check("no claim of the dead flow is left (only the final host's)",
              sk and world.allocations(uk) == [(uk, sk["host"])], world.allocations(uk))

    # --- the recovery pass prunes the change feed ([conductor] change_feed_retention 24 h)
    newest = world.query("SELECT max(id) FROM changes")[0][0]
    world.query("UPDATE changes SET created_at = now() - interval '25 hours' WHERE id < %s",
                newest)
    old_left = env.wait_for(lambda: world.query(
        "SELECT count(*) FROM changes WHERE id < %s", newest)[0][0] == 0, 10)
    tap.check("change records older than 24 hours are pruned by the recovery pass",
              old_left and "change-feed record(s) older than 24 hour(s)" in world.log("cond1"))
    tap.check("newer change records are kept",
              world.query("SELECT count(*) FROM changes WHERE id = %s", newest)[0][0] == 1)

    # --- admin server actions -------------------------------------------------------------
    lst = nova.admin_call("server_list", host="p9")
    tap.check("server_list by host", [s["uuid"] for s in lst] == [up], lst)
    nova.admin_call("server_action", uuid=un, action="delete")
    tap.check("deleting an instance without a host removes it",
              not [s for s in nova.admin_call("server_list") if s["uuid"] == un])

    for cpt in computes.values():
        cpt.stop()
    computes = {}
    p = world.kill("cond1")
    tap.check("the conductor exits 0 on SIGTERM", p is not None and p.returncode == 0,
              p and p.returncode)
    bad = env.sanitizer_reports(world.log, ("cond1",))
    tap.check("conductor log: no sanitizer report, no GLib critical", not bad,
              "\n".join(bad[:20]))
except Exception:  # noqa: BLE001
    import traceback
    tap.check("test ran to the end", False, traceback.format_exc())
finally:
    for cpt in computes.values():
        try:
            cpt.stop()
        except Exception:  # noqa: BLE001
            pass
    env.close_nova_transport()
    world.clean(keep=bool(tap.failed))
rc = tap.done()
sys.stdout.flush()
os._exit(rc)   # oslo's reply listener threads would keep a finished test alive
