#!/usr/bin/python3
"""test-faults-delivery.py: every handler is safe to run twice. tern acks a
message when a worker takes it (docs/wire.md), so a cast is delivered at
most once to a worker; but a sender that retries after a lost reply, a
requeue of a message not yet taken when a connection dropped, or two
conductors acting on one record can still bring the same request twice.
Each case sends the same request twice, raw through oslo.messaging from
python3-nova (both copies back to back, so two worker threads may run them
at once), and asserts one effect:

  - build_and_run_instance twice to the compute that built the instance:
    one domain, one claim, launched_at not moved;
  - instance_update (the build's ACTIVE report with its guest CPU) twice:
    one state, launched_at not moved;
  - instance_fault_create twice: one fault row;
  - migration_update running, then completed, twice each (a live migration
    whose source is a test peer that stays silent): the instance moved once,
    one claim on the destination, none left on the source;
  - terminate_instance twice: instance deleted once, its claim released
    once, no domain;
  - build_and_run_instance once more after the delete (a late duplicate):
    no guest is left running for the deleted instance.

Real tern-conductor, tern-scheduler and tern-compute (c1: QEMU/TCG guests on
a libvirtd of the test's own, which the test asks), python peers for the
migration hosts, RabbitMQ and PostgreSQL of scripts/services."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faults_env as fe  # noqa: E402

if not os.environ.get("TERN_TEST_TRANSPORT_URL") or not os.environ.get("TERN_TEST_DB_URL") \
        or not os.environ.get("TERN_TEST_LIBVIRT_URI"):
    print("1..0 # SKIP TERN_TEST_TRANSPORT_URL / TERN_TEST_DB_URL / TERN_TEST_LIBVIRT_URI not "
          "set (scripts/services start)")
    sys.exit(0)

svc = fe.PrivateServices(["libvirt"])
import conductor_env as env  # noqa: E402

tap = env.Tap()
world = None
try:
    world = env.World("deliv")
    images = os.path.join(world.tmp, "images")
    os.makedirs(images)
    subprocess.check_call(["qemu-img", "create", "-q", "-f", "qcow2",
                           os.path.join(images, "img-x86.qcow2"), "64M"])
    LV = os.environ["TERN_TEST_LIBVIRT_URI"]
    world.start_scheduler()
    world.start_conductor()
    world.start_compute("c1", "", images, "qemu", {"libvirt": {"connection_uri": LV}})
    nova = env.Nova(world)
    om = nova.om
    o = nova.objects
    p1 = env.PeerCompute(nova, "p1", env.x86_node("p1", "Skylake-Client-noTSX-IBRS"))
    p2 = env.PeerCompute(nova, "p2", env.x86_node("p2", "Skylake-Client-noTSX-IBRS"))
    p1.migrate_mode = "silent"
    env.wait_for(lambda: len(nova.admin_call("host_list")) == 3, 60)
    flavor = nova.flavor("m1.tiny", 1, 64, 1)
    P = {"hw_disk_bus": "virtio", "hw_architecture": "x86_64", "os_distro": "debian11"}

    def usage(host):
        r = world.query("SELECT vcpus_used, memory_mb_used FROM compute_nodes WHERE host = %s",
                        host)
        return r[0] if r else None

    def inst_row(u):
        r = world.query("SELECT vm_state, task_state, host, launched_at, deleted FROM instances "
                        "WHERE uuid = %s", u)
        return r[0] if r else None

    # --- build_and_run_instance twice --------------------------------------------
    u = nova.build("vm-dup", "x86_64", image_id="img-x86", props={"hw_disk_bus": "virtio"},
                   flavor=flavor, force_host="c1")
    s = nova.wait_state(u, ["active", "error"], 90)
    tap.check("built: ACTIVE on c1", s and s["vm_state"] == "active" and s["host"] == "c1", s)
    before = inst_row(u)
    compute = om.get_rpc_client(nova.rpc.TRANSPORT, om.Target(topic="compute", server="c1",
                                                               version="6.0"),
                                serializer=nova.serializer)
    inst = o.Instance(uuid=u, display_name="vm-dup", hostname="vm-dup", project_id="p1",
                      user_id="u1", flavor=flavor, image_ref="img-x86", vm_state="building",
                      task_state="spawning", host="c1", node="c1", vcpus=1, memory_mb=64,
                      root_gb=1, ephemeral_gb=0, metadata={}, availability_zone=None)
    spec = o.RequestSpec(instance_uuid=u, flavor=flavor, num_instances=1, project_id="p1",
                         user_id="u1", image=o.ImageMeta.from_dict(
                             {"id": "img-x86", "name": "img", "properties": P}),
                         scheduler_hints={})
    image = {"id": "img-x86", "name": "img", "status": "active", "min_disk": 0, "min_ram": 0,
             "properties": P}

    def cast_build():
        compute.cast(nova.ctx, "build_and_run_instance", instance=inst, image=image,
                     request_spec=spec, filter_properties={}, admin_password=None,
                     injected_files=[], requested_networks=None, security_groups=None,
                     block_device_mapping=[], node="c1", limits=None, host_list=None,
                     accel_uuids=[])

    cast_build()
    cast_build()
    seen = env.wait_for(lambda: world.log("c1").count(
        "instance %s is already built here" % u) >= 2, 60)
    time.sleep(1)
    tap.check("build cast twice: c1 took both and found the guest built",
              seen, world.log("c1")[-2000:])
    doms = fe.virsh_uuids(LV) - {fe.ORPHAN}
    tap.check("build twice: one domain, one claim, ACTIVE on c1, launched_at not moved",
              doms == {u} and world.allocations(u) == [(u, "c1")] and
              inst_row(u)[:4] == before[:4] and usage("c1") == (1, 64),
              (doms, world.allocations(u), before, inst_row(u), usage("c1")))

    # --- instance_update twice ------------------------------------------------------
    s = nova.server(u)
    upd = {"vm_state": "active", "task_state": None, "power_state": 1, "host": "c1",
           "node": "c1", "launched_at": "2020-01-01T00:00:00Z", "guest_cpu": s["guest_cpu"],
           "machine_type": s["image_properties"].get("machine_type")}
    nova.tern.cast(nova.ctx, "instance_update", instance_uuid=u, updates=upd)
    nova.tern.cast(nova.ctx, "instance_update", instance_uuid=u, updates=upd)
    r = nova.tern_call("instance_update", instance_uuid=u, updates=upd)
    tap.check("instance_update (the build report) three times: one state, launched_at not "
              "moved", inst_row(u)[:4] == before[:4] and r["vm_state"] == "active",
              (before, inst_row(u)))

    # --- instance_fault_create twice ------------------------------------------------
    for _ in range(2):
        nova.tern.cast(nova.ctx, "instance_fault_create", instance_uuid=u, code=500,
                       message="disk I/O error (duplicate delivery test)", details="sda")
    nova.tern_call("instances_on_host", host="c1")   # after both casts in this connection
    time.sleep(0.5)
    n = world.query("SELECT count(*) FROM instance_faults WHERE instance_uuid = %s "
                    "AND message LIKE 'disk I/O error%%'", u)[0][0]
    tap.check("instance_fault_create twice: one fault row", n == 1, n)

    # --- migration_update twice -------------------------------------------------------
    um = nova.build("vm-mig", "x86_64", flavor=flavor, force_host="p1")
    sm = nova.wait_state(um, ["active", "error"], 60)
    tap.check("peer build ACTIVE on p1", sm and sm["host"] == "p1", sm)
    mig = nova.admin_call("server_live_migrate", uuid=um, host="p2", timeout=60)
    env.wait_for(lambda: ("live_migration", um, "p2") in p1.calls, 30)
    tap.check("live migration p1 -> p2 handed to the (silent) source",
              ("live_migration", um, "p2") in p1.calls, p1.calls)
    mu = mig["uuid"]
    for st in ({"status": "running", "progress": 50}, {"status": "completed", "progress": 100}):
        nova.tern.cast(nova.ctx, "migration_update", migration_uuid=mu, updates=st)
        nova.tern.cast(nova.ctx, "migration_update", migration_uuid=mu, updates=st)
    last = nova.tern_call("migration_update", migration_uuid=mu,
                          updates={"status": "completed", "progress": 100})
    time.sleep(0.5)
    sm = nova.server(um)
    tap.check("migration_update running x2, completed x3: completed, instance on p2 once, one "
              "claim on p2, none on p1",
              last["status"] == "completed" and sm["host"] == "p2" and
              sm["task_state"] is None and world.allocations(um) == [(um, "p2")] and
              world.allocations(mu) == [] and usage("p1") == (0, 0) and
              usage("p2") == (1, 64), (last, sm, world.allocations(um), world.allocations(mu),
                                       usage("p1"), usage("p2")))

    # --- terminate_instance twice ----------------------------------------------------
    inst_t = o.Instance(uuid=u, host="c1", node="c1", vm_state="active", task_state="deleting",
                        flavor=flavor, vcpus=1, memory_mb=64, root_gb=1, ephemeral_gb=0,
                        project_id="p1", user_id="u1")
    world.query("UPDATE instances SET task_state = 'deleting' WHERE uuid = %s", u)
    compute.cast(nova.ctx, "terminate_instance", instance=inst_t, bdms=None)
    compute.cast(nova.ctx, "terminate_instance", instance=inst_t, bdms=None)
    gone = env.wait_for(lambda: inst_row(u)[4], 60)
    time.sleep(1.5)
    tap.check("terminate twice: instance deleted, its claim released once (c1 usage 0), no "
              "domain", gone and world.allocations(u) == [] and usage("c1") == (0, 0) and
              fe.virsh_uuids(LV) - {fe.ORPHAN} == set(),
              (inst_row(u), world.allocations(u), usage("c1"), fe.virsh_uuids(LV)))
    bad = [ln for ln in world.log("cond1").splitlines() if " ERROR " in ln]
    tap.check("conductor logged no error for the duplicates", not bad, "\n".join(bad[:10]))

    # --- a late duplicate build after the delete ---------------------------------------
    cast_build()
    env.wait_for(lambda: "removing the domain this build made" in world.log("c1") and
                 not fe.virsh_uuids(LV) - {fe.ORPHAN}, 60)
    tap.check("a build cast arriving after the delete leaves no guest: c1 built it, the "
              "conductor refused its report, c1 removed it; the instance stays deleted",
              "removing the domain this build made" in world.log("c1") and
              fe.virsh_uuids(LV) - {fe.ORPHAN} == set() and
              inst_row(u)[4] and usage("c1") == (0, 0),
              (fe.virsh_uuids(LV), inst_row(u), usage("c1"), world.log("c1")[-1500:]))
    p1.stop()
    p2.stop()
    for key in ("cond1", "c1"):
        world.kill(key)   # SIGTERM: a sanitizer build reports leaks at exit
    bad = env.sanitizer_reports(world.log, ("cond1", "sched1", "c1"))
    tap.check("no sanitizer report, no GLib critical in the daemons' logs", not bad,
              "\n".join(bad[:20]))
except Exception:  # noqa: BLE001
    import traceback
    tap.check("test ran to the end", False, traceback.format_exc())
finally:
    env.close_nova_transport()
    if world:
        if tap.failed:
            for key in ("cond1", "sched1", "c1"):
                sys.stderr.write("==== %s\n%s\n" % (key, world.log(key)[-5000:]))
        world.clean(keep=bool(tap.failed))
    svc.stop()
rc = tap.done()
sys.stdout.flush()
os._exit(rc)
