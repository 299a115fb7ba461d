#!/usr/bin/python3
# test-compute-migrate-checks.py: the live-migration checks and the failure
# path of tern-compute, over real RPC on a real RabbitMQ, with daemons on
# libvirt's test driver and simulated hosts (the test driver cannot migrate,
# so the moves themselves are in the e2e test on real hosts):
#  - host P (x86_64 facts whose host-model CPU also has pcid) runs guests
#    with Nehalem + pcid; host X (plain x86_64 facts) runs Nehalem; host 9
#    is a POWER9.
#  - check_can_live_migrate_destination X -> P passes (the destination asks
#    the source, as Nova's does) and returns LibvirtLiveMigrateData with the
#    destination's address and block migration for local disks;
#  - P -> X is refused before anything moves, naming pcid; X -> 9 is refused
#    for the arch; a destination that already has the domain refuses;
#  - live_migration cast to a source whose libvirt cannot migrate: the guest
#    keeps running on the source, the destination rolls back (nothing
#    defined there), the migration becomes `error` with libvirt's reason,
#    the instance stays on the source.
import os
import shutil
import sys
import time
import uuid as uuidlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compute_peer import *  # noqa: E402,F401,F403
from compute_peer import peer, objects, api, ctx, tmp, SRC  # noqa: E402

import oslo_messaging as messaging  # noqa: E402


def migration_obj(inst, source, dest):
    return objects.Migration(uuid=str(uuidlib.uuid4()), instance_uuid=inst.uuid,
                             source_compute=source, dest_compute=dest, source_node=source,
                             dest_node=dest, migration_type="live-migration", status="accepted")


def check_dest(inst, dest, migration):
    try:
        return api.check_can_live_migrate_destination(ctx, inst, dest, None, None, migration,
                                                      None), None
    except Exception as e:  # noqa: BLE001 (any refusal is what is checked)
        return None, e


daemons = []
try:
    # a simulated x86_64 host whose host-model CPU also has pcid
    pfacts = os.path.join(tmp, "facts-pcid")
    shutil.copytree(os.path.join(SRC, "tests", "data", "hosts", "x86_64"), pfacts)
    dc = os.path.join(pfacts, "domcapabilities-x86_64-qemu.xml")
    text = open(dc).read().replace("<model fallback='forbid'>EPYC</model>",
                                   "<model fallback='forbid'>EPYC</model>\n"
                                   "      <feature policy='require' name='pcid'/>", 1)
    open(dc, "w").write(text)

    tag = uuidlib.uuid4().hex[:6]
    hp, hx, h9 = "tern-mp-" + tag, "tern-mx-" + tag, "tern-m9-" + tag
    cp = compute_conf(hp, pfacts, "cpu_mode = custom\ncpu_models = Nehalem\n"
                      "cpu_model_extra_flags = pcid\nlive_migration_inbound_addr = 192.0.2.10\n")
    cx = compute_conf(hx, "x86_64", "cpu_mode = custom\ncpu_models = Nehalem\n")
    c9 = compute_conf(h9, "power9", "cpu_mode = host-model\n", "kvm")
    for c in (cp, cx, c9):
        daemons.append(start_daemon(c))
    for h in (hp, hx, h9):
        got = wait_for("compute_node_report", lambda kw, h=h: kw["host"] == h, START_TIMEOUT)
        if not ok(got is not None, "%s reports" % h):
            raise SystemExit("a daemon did not start")

    images = os.path.join(tmp, "images")
    subprocess.check_call(["qemu-img", "create", "-q", "-f", "qcow2",
                           os.path.join(images, "img-m.qcow2"), "64M"])
    image = {"id": "img-m", "properties": {"os_distro": "debian11"}}
    gp = make_instance(hp, "img-m")
    gx = make_instance(hx, "img-m")
    build(gp, hp, image)
    build(gx, hx, image)
    for g in (gp, gx):
        up = wait_for("instance_update", lambda kw, g=g: kw["uuid"] == g.uuid and
                      kw["updates"].get("vm_state") == "active", 30)
        ok(up is not None, "guest %s built on %s" % (g.uuid[:8], g.host))
        g.vm_state = "active"
    upp = [kw for ev, kw in peer.history if ev == "instance_update" and kw["uuid"] == gp.uuid]
    ok(upp and "pcid" in upp[-1]["updates"]["guest_cpu"]["features"],
       "the guest on the pcid host records pcid in its guest CPU")

    # X -> P: fine
    mig = migration_obj(gx, hx, hp)
    md, err = check_dest(gx, hp, mig)
    ok(md is not None, "check_can_live_migrate_destination %s -> %s passes (%s)" %
       (hx, hp, err))
    if md is not None:
        ok(md.target_connect_addr == "192.0.2.10",
           "migrate data: the destination's live_migration_inbound_addr")
        ok(md.block_migration is True and md.is_shared_instance_path is False,
           "migrate data: local disks, no shared storage -> block migration")
    # P -> X: pcid missing on X
    md, err = check_dest(gp, hx, migration_obj(gp, hp, hx))
    ok(md is None and "MigrationPreCheckError" in type(err).__name__ + repr(err) and
       "pcid" in str(err), "P -> X refused, naming pcid: %s" % str(err)[:200])
    ok(os.path.isdir(os.path.join(tmp, hp, "instances", gp.uuid)),
       "the refused guest's disk is still on its source")
    # X -> POWER9: arch
    md, err = check_dest(gx, h9, migration_obj(gx, hx, h9))
    ok(md is None and "x86_64" in str(err), "x86_64 guest -> POWER9 refused: %s" %
       str(err)[:200])
    # to the host it is on
    md, err = check_dest(gx, hx, migration_obj(gx, hx, hx))
    ok(md is None and "already" in str(err), "a migration to its own host is refused")

    # the failure path: the test driver cannot migrate
    mig = migration_obj(gx, hx, hp)
    md, err = check_dest(gx, hp, mig)
    gx.task_state = "migrating"
    api.live_migration(ctx, gx, hp, md.block_migration, hx, mig, md)
    st = wait_for("migration_update", lambda kw: kw["uuid"] == mig.uuid and
                  kw["updates"].get("status") in ("error", "failed", "completed"), 60)
    ok(st is not None and st["updates"]["status"] == "error" and st["updates"].get("error"),
       "a migration libvirt cannot do ends in error with the reason: %s" %
       (st and st["updates"].get("error", "")[:150]))
    back = wait_for("instance_update", lambda kw: kw["uuid"] == gx.uuid and
                    kw["updates"].get("task_state", "x") is None and
                    kw["updates"].get("host") == hx, 30)
    ok(back is not None and back["updates"]["power_state"] == 1,
       "the instance stays on its source, running, task cleared")
    time.sleep(1.0)
    log = open(cp + ".log").read()
    ok("rolled back on %s" % hp in log, "the destination rolled back")
    ok(not os.path.exists(os.path.join(tmp, hp, "instances", gx.uuid)),
       "nothing of the instance is left on the destination")
    ok(any(ev == "migration_update" and kw["uuid"] == mig.uuid and
           kw["updates"].get("status") == "preparing" for ev, kw in peer.history),
       "the migration went through preparing first")
    for g in (gp, gx):
        api.terminate_instance(ctx, g, bdms=objects.BlockDeviceMappingList(objects=[]))
        ok(wait_for("instance_update", lambda kw, g=g: kw["uuid"] == g.uuid and
                    kw["updates"].get("vm_state") == "deleted", 30) is not None,
           "guest %s terminated" % g.uuid[:8])
finally:
    finish(daemons)
