#!/usr/bin/python3
# test-compute-daemon.py: tern-compute as a daemon, over real RPC on a real
# RabbitMQ, on libvirt's test driver with simulated host facts
# (tests/data/hosts/). A test peer plays the conductor's tern namespace
# (docs/tern-rpc.md) with oslo.messaging and records what the compute
# reports; Nova's own ComputeAPI client drives build/stop/start/reboot/
# terminate. Checks: start-up refused for a CPU config the host cannot
# provide; compute_node_report (arch, CPU, supported instances, machine
# types) and service_report heartbeats; reconcile reports test:///default's
# own domain as unknown without destroying it and corrects a wrong power
# state; build -> ACTIVE with guest CPU and machine type recorded; a build
# delivered twice does no harm; stop/start/reboot (SOFT, HARD)/terminate
# reach their states, disk gone after terminate; a failing build reports a
# fault and instance_build_failed and leaves nothing behind.
# Each run uses its own control exchange so nothing else on the broker
# (another conductor, other tests) sees its messages.
import os
import subprocess
import sys
import time
import uuid as uuidlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compute_peer import *  # noqa: E402,F401,F403
from compute_peer import peer, objects  # noqa: E402

try:
    # --- start-up refuses a CPU config the host cannot provide
    host0 = "tern-it-bad-" + uuidlib.uuid4().hex[:6]
    conf = compute_conf(host0, "x86_64", "cpu_mode = custom\ncpu_models = Skylake-Client-IBRS\n"
                        "cpu_model_extra_flags = avx512-vp2intersect\n")
    p = start_daemon(conf)
    try:
        rc = p.wait(timeout=START_TIMEOUT)
    except subprocess.TimeoutExpired:
        rc = None
        stop_daemon(p)
    log = open(conf + ".log").read()
    ok(rc not in (None, 0), "start-up refused for a CPU flag the host lacks (exit %s)" % rc)
    ok("avx512-vp2intersect" in log, "the refusal names the missing feature")

    # --- a simulated x86_64 host: reports and reconcile
    host = "tern-it-" + uuidlib.uuid4().hex[:6]
    # a known instance whose power state the database has wrong, and whose
    # domain is missing: reconcile corrects it to NOSTATE
    ghost = str(uuidlib.uuid4())
    peer.instances[ghost] = {"uuid": ghost, "name": "ghost", "host": host, "vm_state": "active",
                             "task_state": None, "power_state": 1}
    conf = compute_conf(host, "x86_64", "cpu_mode = custom\ncpu_models = Nehalem\n"
                        "cpu_model_extra_flags = aes\n")
    daemon = start_daemon(conf)
    node = wait_for("compute_node_report", lambda kw: kw["host"] == host, START_TIMEOUT)
    if not ok(node is not None, "compute_node_report arrives at start"):
        raise SystemExit("tern-compute did not report: " + open(conf + ".log").read()[-3000:])
    if node:
        n = node["node"]
        ok(n["arch"] == "x86_64" and n["hypervisor_type"] == "QEMU" and
           n["hypervisor_version"] == 10000002, "node: arch, hypervisor type and version")
        ok(["ppc64le", "qemu", "hvm"] in n["supported_instances"] and
           ["x86_64", "qemu", "hvm"] in n["supported_instances"],
           "node: supported_instances include emulated ppc64le")
        ok(n["guest_cpu"]["model"] == "Nehalem" and
           "aes" in n["guest_cpu"]["features"] and "<model" in n["guest_cpu"]["xml"],
           "node: guest CPU from [libvirt] cpu_models + extra flags")
        tcg = n["guest_cpu"].get("tcg_models", {})
        ok("POWER9" in tcg.get("ppc64le", []) and "Nehalem" in tcg.get("x86_64", []) and
           "Skylake-Client-IBRS" not in tcg.get("x86_64", []),
           "node: TCG models per arch (domain capabilities' usable ones: no Skylake under TCG)")
        ok(n["host_cpu"]["model"] and len(n["host_cpu"]["features"]) > 10 and
           '"features"' in n["cpu_info"], "node: host CPU and Nova's cpu_info")
        ok(any(m.startswith("pc-q35-") for m in n["machine_types"]), "node: machine types")
        ok(n["migration_addr"] == host and n["vcpus"] > 0 and n["memory_mb"] > 0,
           "node: migration address and sizes")
    ok(wait_for("service_report", lambda kw: kw["host"] == host and
                kw["binary"] == "tern-compute", 10) is not None, "service_report heartbeat")
    fixed = update_for(ghost, "power_state", 0, 120)
    ok(fixed is not None and fixed["expected"] is None,
       "reconcile corrects a wrong power state (expecting no task)")
    unk = wait_for("compute_node_report", lambda kw: kw["host"] == host and
                   kw["node"].get("unknown_domains"), 120)
    ok(unk is not None and [d["name"] for d in unk["node"]["unknown_domains"]] == ["test"],
       "reconcile reports test:///default's own domain as unknown")
    log = open(conf + ".log").read()
    ok("belongs to no instance" in log and "left as it is" in log,
       "the unknown domain is logged, not destroyed")

    # --- build through Nova's ComputeAPI
    images = os.path.join(tmp, "images")
    subprocess.check_call(["qemu-img", "create", "-q", "-f", "qcow2",
                           os.path.join(images, "img-x86.qcow2"), "64M"])
    inst = make_instance(host, "img-x86")
    u = inst.uuid
    image = {"id": "img-x86", "name": "x86", "properties": {"os_distro": "debian11",
                                                          "hw_disk_bus": "virtio"}}
    t0 = time.time()
    build(inst, host, image)
    up = update_for(u, "vm_state", "active", 30)
    ok(up is not None, "build_and_run_instance: instance_update ACTIVE (%.2f s)" %
       (time.time() - t0))
    if up:
        upd = up["updates"]
        ok(upd["power_state"] == 1 and upd["task_state"] is None and upd["host"] == host,
           "build: running, no task, host recorded")
        ok(upd.get("guest_cpu", {}).get("model") == "Nehalem" and
           "aes" in upd["guest_cpu"].get("features", []),
           "build: guest CPU recorded")
        ok(upd.get("machine_type", "").startswith("pc-q35-"), "build: machine type recorded (%s)"
           % upd.get("machine_type"))
    disk = os.path.join(tmp, host, "instances", u, "disk")
    ok(os.path.isfile(disk), "build: the instance's overlay disk exists")
    # delivered twice: reported again, nothing rebuilt
    build(inst, host, image)
    again = update_for(u, "vm_state", "active", 30)
    ok(again is not None, "a second build of the same instance only reports it again")
    log = open(conf + ".log").read()
    ok(log.count("instance %s built" % u) == 1 and "already built here" in log,
       "the second delivery built nothing")

    inst.vm_state = "active"
    inst.task_state = "powering-off"
    api.stop_instance(ctx, inst, clean_shutdown=True)
    ok(update_for(u, "vm_state", "stopped", 30) is not None, "stop_instance: STOPPED")
    api.stop_instance(ctx, inst, clean_shutdown=False)
    ok(update_for(u, "vm_state", "stopped", 30) is not None, "stop twice: still STOPPED")
    api.start_instance(ctx, inst)
    st = update_for(u, "vm_state", "active", 30)
    ok(st is not None and st["updates"]["power_state"] == 1, "start_instance: ACTIVE running")
    api.reboot_instance(ctx, inst, block_device_info=None, reboot_type="SOFT")
    ok(update_for(u, "power_state", 1, 30) is not None, "reboot_instance SOFT: running")
    api.reboot_instance(ctx, inst, block_device_info=None, reboot_type="HARD")
    ok(update_for(u, "power_state", 1, 30) is not None, "reboot_instance HARD: running")
    api.terminate_instance(ctx, inst, bdms=objects.BlockDeviceMappingList(objects=[]))
    ok(update_for(u, "vm_state", "deleted", 30) is not None, "terminate_instance: DELETED")
    ok(not os.path.exists(os.path.dirname(disk)), "terminate: the instance's folder is gone")
    api.terminate_instance(ctx, inst, bdms=objects.BlockDeviceMappingList(objects=[]))
    ok(update_for(u, "vm_state", "deleted", 30) is not None, "terminate twice: no harm")

    # --- a failing build: fault + instance_build_failed, nothing left
    bad = make_instance(host, "img-x86")
    bad_image = {"id": "img-x86", "properties": {"os_distro": "debian11", "hw_disk_bus": "ide"}}
    build(bad, host, bad_image)
    fault = wait_for("instance_fault_create", lambda kw: kw["uuid"] == bad.uuid, 30)
    ok(fault is not None and "ide" in fault["message"].lower(),
       "failed build: fault recorded with the reason")
    bf = wait_for("instance_build_failed", lambda kw: kw["uuid"] == bad.uuid, 30)
    ok(bf is not None and bf["host"] == host and bf["retryable"] is True,
       "failed build: instance_build_failed (retryable) for a reschedule")
    ok(not os.path.exists(os.path.join(tmp, host, "instances", bad.uuid)),
       "failed build: no disk left behind")
    missing = make_instance(host, "no-such-image")
    build(missing, host, {"id": "no-such-image", "properties": {}})
    bf = wait_for("instance_build_failed", lambda kw: kw["uuid"] == missing.uuid, 30)
    ok(bf is not None and "no-such-image" in bf["reason"], "a missing image fails the build")

    rc = stop_daemon(daemon)
    ok(rc == 0, "tern-compute stops cleanly on SIGTERM (exit %s)" % rc)

    # --- simulated POWER8 and POWER9 hosts: ppc64le guests with a compat-mode CPU
    power_daemons = []
    for facts, gen in (("power8", "POWER8"), ("power9", "POWER9")):
        hostp = "tern-it-%s-%s" % (facts, uuidlib.uuid4().hex[:6])
        confp = compute_conf(hostp, facts, "cpu_mode = host-model\n", "kvm")
        dp = start_daemon(confp)
        power_daemons.append(dp)
        npw = wait_for("compute_node_report", lambda kw: kw["host"] == hostp, START_TIMEOUT)
        ok(npw is not None and npw["node"]["arch"] == "ppc64le" and
           any(m.startswith("pseries") for m in npw["node"]["machine_types"]),
           "%s host: ppc64le node with pseries machine types" % gen)
        ok(npw is not None and npw["node"]["host_cpu"].get("model") == gen,
           "%s host: its host CPU is reported as %s" % (gen, gen))
        img = "img-" + facts
        subprocess.check_call(["qemu-img", "create", "-q", "-f", "qcow2",
                               os.path.join(images, img), "64M"])
        pi = make_instance(hostp, img)
        build(pi, hostp, {"id": img, "properties": {"os_distro": "rhel8.6",
                                                    "hw_architecture": "ppc64le"}})
        up = update_for(pi.uuid, "vm_state", "active", 30)
        ok(up is not None and up["updates"].get("machine_type", "").startswith("pseries"),
           "%s host: ppc64le guest built on pseries" % gen)
        pi.vm_state = "active"
        pi.task_state = "powering-off"
        api.stop_instance(ctx, pi, clean_shutdown=True)
        ok(update_for(pi.uuid, "vm_state", "stopped", 30) is not None, "%s host: stopped" % gen)
        api.start_instance(ctx, pi)
        st = update_for(pi.uuid, "vm_state", "active", 30)
        ok(st is not None and st["updates"]["power_state"] == 1, "%s host: started, running" % gen)
        api.terminate_instance(ctx, pi, bdms=objects.BlockDeviceMappingList(objects=[]))
        ok(update_for(pi.uuid, "vm_state", "deleted", 30) is not None, "%s host: terminated" % gen)
        ok(stop_daemon(dp) == 0, "%s tern-compute stops cleanly" % gen)
finally:
    finish([globals().get("daemon")] + globals().get("power_daemons", []))
