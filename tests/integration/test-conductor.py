#!/usr/bin/python3
"""test-conductor.py: tern-conductor's flows on real RabbitMQ + PostgreSQL,
driven through python3-nova's ComputeTaskAPI client: builds placed by arch,
a failed build rescheduled to the alternate, no valid host -> ERROR with a
fault, forced live migration refused for a missing CPU feature and
completed to a compatible host, scheduler-chosen live migration, the writes
computes make (idempotent), the admin methods, and a conductor killed with
SIGKILL in the middle of a build.

Computes and the scheduler are test peers here (conductor_env.py): they
serve the methods of docs/tern-rpc.md the way tern-compute / tern-scheduler
do, so this pins the conductor's side of the contract."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import conductor_env as env  # noqa: E402

env.skip_unless_services()
tap = env.Tap()
world = env.World("cond")
try:
    world.start_conductor()
    nova = env.Nova(world)
    from nova import exception as nova_exception

    SKY = "Skylake-Client-IBRS"
    nodes = {
        "x86-a": env.x86_node("x86-a", SKY, []),
        "x86-c": env.x86_node("x86-c", SKY, []),
        "x86-old": env.x86_node("x86-old", "Haswell-noTSX", []),
        "x86-bad": env.x86_node("x86-bad", SKY, []),
        "p9": env.power9_node("p9"),
    }
    computes = {h: env.PeerCompute(nova, h, n, fail_builds=(h == "x86-bad"))
                for h, n in nodes.items()}
    sched = env.PeerScheduler(nova, [("x86-a", "x86_64"), ("p9", "ppc64le")])

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

    # --- builds land on the right arch -------------------------------------------------
    ux = nova.build("vm-x86", "x86_64")
    up = nova.build("vm-ppc", "ppc64le")
    sx = nova.wait_state(ux, ["active", "error"])
    sp = nova.wait_state(up, ["active", "error"])
    tap.check("x86_64 image: ACTIVE on the x86 host", sx and sx["vm_state"] == "active"
              and sx["host"] == "x86-a", sx)
    tap.check("ppc64le image: ACTIVE on the POWER9 host", sp and sp["vm_state"] == "active"
              and sp["host"] == "p9", sp)
    tap.check("the compute got build_and_run_instance with the image and node",
              any(b["uuid"] == up and b["node"] == "p9" and
                  b["image"]["properties"]["hw_architecture"] == "ppc64le"
                  for b in computes["p9"].builds), computes["p9"].builds)
    tap.check("guest CPU and machine type recorded from the compute's instance_update",
              sp and sp["guest_cpu"] and sp["guest_cpu"].get("model") == "POWER9"
              and sp["guest_cpu"].get("machine_type") == "pseries-10.0", sp)

    # --- a failing compute: reschedule to the alternate ------------------------------
    sched.hosts[:] = [("x86-bad", "x86_64"), ("x86-a", "x86_64"), ("p9", "ppc64le")]
    ur = nova.build("vm-resched", "x86_64")
    sr = nova.wait_state(ur, ["active", "error"])
    tap.check("build failing on x86-bad is rescheduled to the alternate x86-a",
              sr and sr["vm_state"] == "active" and sr["host"] == "x86-a", sr)
    tap.check("x86-bad got the build first",
              any(b["uuid"] == ur for b in computes["x86-bad"].builds))
    tap.check("the failure is kept as a fault naming the host and reason",
              sr and any("x86-bad" in f["message"] and "simulated" in f["message"]
                         for f in sr["faults"]), sr and sr["faults"])
    alloc = world.allocations(ur)
    tap.check("claims: only the alternate holds the instance (x86-bad released)",
              alloc == [(ur, "x86-a")], alloc)

    # --- every host fails: max_attempts -> ERROR -------------------------------------
    sched.hosts[:] = [("x86-bad", "x86_64"), ("x86-bad", "x86_64"), ("x86-bad", "x86_64"),
                      ("p9", "ppc64le")]
    um = nova.build("vm-maxed", "x86_64")
    sm = nova.wait_state(um, ["active", "error"])
    tap.check("every attempt failing: ERROR with a fault naming max_attempts",
              sm and sm["vm_state"] == "error" and
              any("max_attempts" in f["message"] for f in sm["faults"]), sm)
    sched.hosts[:] = [("x86-a", "x86_64"), ("p9", "ppc64le")]

    # --- no valid host --------------------------------------------------------------
    un = nova.build("vm-arm", "aarch64")
    sn = nova.wait_state(un, ["active", "error"])
    tap.check("no valid host: ERROR", sn and sn["vm_state"] == "error", sn)
    tap.check("no valid host: the fault says why",
              sn and any("No valid host" in f["message"] and "aarch64" in f["message"]
                         for f in sn["faults"]), sn and sn["faults"])

    # --- live migration to a host lacking a CPU feature -------------------------------
    try:
        nova.task_api.live_migrate_instance(nova.ctx, nova.instance(ux), "x86-old",
                                            block_migration=None, disk_over_commit=None,
                                            request_spec=None, async_=False)
        tap.check("forced migration to Haswell host refused", False)
    except nova_exception.MigrationPreCheckError as e:
        msg = str(e)
        tap.check("forced migration to a Haswell host: MigrationPreCheckError", True)
        tap.check("the refusal names the missing CPU features", "lacks features" in msg
                  and "x86-old" in msg, msg)
        tap.note("refusal: " + msg)
    s = nova.server(ux)
    tap.check("refused: the instance stays on x86-a with no task",
              s["host"] == "x86-a" and s["task_state"] is None, s)
    tap.check("refused before anything moved: x86-old never asked",
              not computes["x86-old"].calls and not computes["x86-a"].calls)
    migs = nova.admin_call("migration_list", instance_uuid=ux)
    tap.check("refused: the migration record is error with the reason",
              migs and migs[0]["status"] == "error" and "lacks" in (migs[0]["error"] or ""),
              migs)
    tap.check("refused: no claim left on x86-old",
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
    m = nova.admin_call("server_live_migrate", uuid=ux, host="x86-c")
    tap.check("server_live_migrate to x86-c accepted (preparing)",
              m["status"] in ("preparing", "running", "completed") and m["dest_compute"] ==
              "x86-c", m)
    done = env.wait_for(lambda: nova.admin_call("migration_show", uuid=m["uuid"])["status"]
                        in ("completed", "error", "failed") and
                        nova.admin_call("migration_show", uuid=m["uuid"]), 30)
    tap.check("migration record completed with progress 100", done and
              done["status"] == "completed" and done["progress"] == 100, done)
    s = nova.server(ux)
    tap.check("instance host updated to x86-c, task cleared", s["host"] == "x86-c"
              and s["task_state"] is None and s["vm_state"] == "active", s)
    tap.check("flow: dest check on x86-c, live_migration cast to x86-a",
              ("check_dest", ux, m["uuid"]) in computes["x86-c"].calls
              and ("live_migration", ux, "x86-c") in computes["x86-a"].calls)
    alloc = world.allocations(ux, m["uuid"])
    tap.check("claims moved: the instance holds x86-c only", alloc == [(ux, "x86-c")], alloc)
    again = nova.tern_call("migration_update", migration_uuid=m["uuid"],
                           updates={"status": "completed"})
    alloc2 = world.allocations(ux, m["uuid"])
    tap.check("migration_update completed twice changes nothing",
              again["status"] == "completed" and alloc2 == alloc, (again, alloc2))

    # --- live migration, the scheduler chooses -------------------------------------
    sched.hosts[:] = [("x86-c", "x86_64"), ("x86-a", "x86_64"), ("p9", "ppc64le")]
    n_req = len(sched.requests)
    nova.task_api.live_migrate_instance(nova.ctx, nova.instance(ux), None,
                                        block_migration=None, disk_over_commit=None,
                                        request_spec=None, async_=True)
    s = env.wait_for(lambda: (lambda x: x if x["host"] == "x86-a" and x["task_state"] is None
                              else None)(nova.server(ux)), 30)
    tap.check("no target: the scheduler chose x86-a (source x86-c ignored)", s is not None,
              nova.server(ux))
    spec = sched.requests[n_req] if len(sched.requests) > n_req else None
    tap.check("the scheduler got ignore_hosts=[source] and the _tern_move hints",
              spec is not None and spec.ignore_hosts == ["x86-c"]
              and spec.scheduler_hints.get("_tern_move") == ["live"]
              and len(spec.scheduler_hints.get("_tern_migration_uuid", [])) == 1,
              spec and (spec.ignore_hosts, spec.scheduler_hints))

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
    sched.hold.clear()
    n_req = len(sched.requests)
    uk = nova.build("vm-killed", "x86_64")
    got = env.wait_for(lambda: len(sched.requests) > n_req, 20)
    row = world.query("SELECT vm_state, task_state FROM instances WHERE uuid = %s", uk)
    tap.check("build recorded and waiting on the scheduler", got and
              row == [("building", "scheduling")], row)
    world.kill("cond1", signal.SIGKILL)
    sched.hold.set()
    time.sleep(1)
    world.start_conductor()
    sk = nova.wait_state(uk, ["active", "error"], timeout=60)
    tap.check("after kill -9 and restart the instance is not left BUILDING (ACTIVE)",
              sk and sk["vm_state"] == "active" and sk["host"] in ("x86-a", "x86-c"), sk)
    tap.check("the restarted conductor logged the recovery",
              "scheduling it again" in world.log("cond1"))

    # --- admin server actions -------------------------------------------------------------
    lst = nova.admin_call("server_list", host="p9")
    tap.check("server_list by host", [s["uuid"] for s in lst] == [up], lst)
    d = nova.admin_call("server_action", uuid=un, action="delete")
    tap.check("deleting an instance without a host removes it",
              not [s for s in nova.admin_call("server_list") if s["uuid"] == un], d)

    for cpt in computes.values():
        cpt.stop()
    sched.stop()
    logtext = world.log("cond1")
    tap.check("no ERROR-level surprises in the conductor log beyond the expected ones",
              "Traceback" not in logtext, logtext[-3000:])
except Exception as e:  # noqa: BLE001
    import traceback
    tap.check("test ran to the end", False, traceback.format_exc())
finally:
    try:
        from nova import rpc as nova_rpc
        if nova_rpc.TRANSPORT:
            nova_rpc.TRANSPORT.cleanup()
    except Exception:  # noqa: BLE001
        pass
    world.clean()
rc = tap.done()
sys.stdout.flush()
os._exit(rc)   # oslo's reply listener threads would keep a finished test alive
