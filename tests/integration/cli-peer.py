#!/usr/bin/python3
"""cli-peer.py: a stand-in tern-conductor serving namespace tern_admin
(docs/tern-rpc.md) with Python oslo.messaging on a real RabbitMQ, for
tests/integration/test-cli.sh: it pins the `tern` CLI's formatting and its
mapping of remote failures (NoValidHost, MigrationPreCheckError, ...).
It keeps a small in-memory cloud: three hosts (two x86_64, one ppc64le POWER9
without md-clear), servers that build in ~1 s, and live migrations that
advance a quarter of the memory per migration_show.

    cli-peer.py URL EXCHANGE   serve until stdin closes; prints READY once
                               serving (EXCHANGE: the control_exchange, so
                               that a real conductor on the same broker
                               does not share the test's queue)
"""
import sys
import threading
import time
import uuid

import oslo_messaging as messaging
from oslo_config import cfg
from nova import exception

HOSTS = {
    "hosta": {"arch": "x86_64", "cpu_model": "Skylake-Client-IBRS", "vcpus": 4,
              "memory_mb": 7960, "local_gb": 40, "features": ["avx2", "md-clear", "ssbd"]},
    "hostb": {"arch": "x86_64", "cpu_model": "Skylake-Client-IBRS", "vcpus": 4,
              "memory_mb": 7960, "local_gb": 40, "features": ["avx2", "md-clear", "ssbd"]},
    "power9": {"arch": "ppc64le", "cpu_model": "POWER9", "vcpus": 16,
               "memory_mb": 65536, "local_gb": 500, "features": []},
}


class Admin(object):
    target = messaging.Target(namespace="tern_admin", version="1.0")

    def __init__(self):
        self.lock = threading.Lock()
        self.servers = {}
        self.migrations = {}
        self.disabled = {}

    def _host(self, name):
        h = HOSTS[name]
        used = [s for s in self.servers.values() if s["host"] == name]
        return {
            "host": name, "arch": h["arch"], "virt_type": "qemu",
            "hypervisor_version": 10000000, "state": "up",
            "disabled": name in self.disabled, "disabled_reason": self.disabled.get(name),
            "cpu_model": h["cpu_model"], "guest_cpu_model": h["cpu_model"],
            "vcpus": h["vcpus"], "vcpus_used": sum(s["flavor"]["vcpus"] for s in used),
            "memory_mb": h["memory_mb"],
            "memory_mb_used": sum(s["flavor"]["memory_mb"] for s in used),
            "local_gb": h["local_gb"], "local_gb_used": sum(s["flavor"]["root_gb"] for s in used),
            "instances": len(used),
        }

    def _server(self, s):
        if s["vm_state"] == "building" and time.time() > s["ready_at"]:
            s.update(vm_state="active", task_state=None, power_state=1)
        out = {k: v for k, v in s.items() if k != "ready_at"}
        return out

    def _find(self, uuid_=None, name=None):
        for s in self.servers.values():
            if s["uuid"] == uuid_ or (name is not None and s["name"] == name):
                return s
        raise exception.InstanceNotFound(instance_id=uuid_ or name)

    def host_list(self, ctxt):
        with self.lock:
            return [self._host(h) for h in sorted(HOSTS)]

    def host_show(self, ctxt, host):
        with self.lock:
            if host not in HOSTS:
                raise exception.ComputeHostNotFound(host=host)
            h = self._host(host)
            h.update(host_cpu={"arch": HOSTS[host]["arch"], "model": HOSTS[host]["cpu_model"],
                               "features": HOSTS[host]["features"]},
                     guest_cpu={"mode": "host-model", "model": HOSTS[host]["cpu_model"],
                                "features": HOSTS[host]["features"], "xml": "<cpu/>"},
                     features=HOSTS[host]["features"],
                     mitigations=["md-clear"] if "md-clear" in HOSTS[host]["features"] else [],
                     machine_types=["pc-q35-10.0"], supported_instances=[[h["arch"], "qemu",
                                                                         "hvm"]],
                     gates={"live_migration": {"allowed": True, "reason": ""}})
            return h

    def host_set_enabled(self, ctxt, host, enabled, reason=None):
        with self.lock:
            if host not in HOSTS:
                raise exception.ComputeHostNotFound(host=host)
            if enabled:
                self.disabled.pop(host, None)
            else:
                self.disabled[host] = reason
            return self._host(host)

    def server_create(self, ctxt, name, image, flavor, host=None, count=1):
        with self.lock:
            arch = image.get("properties", {}).get("hw_architecture", "x86_64")
            cands = [h for h in sorted(HOSTS) if HOSTS[h]["arch"] == arch
                     and h not in self.disabled and (host is None or h == host)]
            if flavor.get("extra_specs", {}).get("hw:cpu_flags") == "+md-clear":
                n = len([h for h in HOSTS if HOSTS[h]["arch"] == arch])
                raise exception.NoValidHost(
                    reason="no host can run this CPU: missing md-clear on all %d %s hosts"
                    % (n, arch))
            if not cands:
                raise exception.NoValidHost(reason="no enabled %s host" % arch)
            out = []
            for i in range(count):
                s = {"uuid": str(uuid.uuid4()), "name": name if count == 1 else
                     "%s-%d" % (name, i + 1), "host": cands[0], "node": cands[0],
                     "vm_state": "building", "task_state": "spawning", "power_state": 0,
                     "flavor": flavor, "image": image, "arch": arch,
                     "ready_at": time.time() + 1.0, "faults": []}
                self.servers[s["uuid"]] = s
                out.append(self._server(s))
            return out

    def server_list(self, ctxt, host=None):
        with self.lock:
            return [self._server(s) for s in sorted(self.servers.values(),
                                                    key=lambda s: s["name"])
                    if host is None or s["host"] == host]

    def server_show(self, ctxt, uuid=None, name=None):
        with self.lock:
            return self._server(self._find(uuid, name))

    def server_action(self, ctxt, uuid, action):
        with self.lock:
            s = self._find(uuid)
            if action == "delete":
                del self.servers[uuid]
                s = dict(s, vm_state="deleted")
            elif action == "stop":
                s.update(vm_state="stopped", power_state=4)
            elif action == "start":
                if s["vm_state"] != "stopped":
                    raise exception.InstanceInvalidState(
                        attr="vm_state", instance_uuid=uuid, state=s["vm_state"],
                        method="start")
                s.update(vm_state="active", power_state=1)
            elif action in ("reboot", "reboot_hard"):
                s["last_action"] = action
            return self._server(s)

    def server_live_migrate(self, ctxt, uuid, host=None):
        with self.lock:
            s = self._find(uuid)
            if host is not None and host not in HOSTS:
                raise exception.ComputeHostNotFound(host=host)
            if host is not None and HOSTS[host]["arch"] != s["arch"]:
                raise exception.MigrationPreCheckError(
                    reason="host %s is %s, the server is %s" % (host, HOSTS[host]["arch"],
                                                              s["arch"]))
            dests = [h for h in sorted(HOSTS) if HOSTS[h]["arch"] == s["arch"]
                     and h != s["host"] and (host is None or h == host)]
            if not dests:
                raise exception.MigrationPreCheckError(
                    reason="no other %s host can run the guest CPU" % s["arch"])
            m = {"uuid": str(uuid_mod.uuid4()), "instance_uuid": uuid,
                 "migration_type": "live-migration", "status": "running",
                 "source_compute": s["host"], "dest_compute": dests[0], "progress": 0,
                 "memory_total": 536870912, "memory_processed": 0,
                 "memory_remaining": 536870912, "downtime_ms": None, "error": None,
                 "created_at": "2026-11-22T04:00:00Z"}
            self.migrations[m["uuid"]] = m
            s["task_state"] = "migrating"
            return dict(m)

    def migration_list(self, ctxt, instance_uuid=None):
        with self.lock:
            return [dict(m) for m in self.migrations.values()
                    if instance_uuid is None or m["instance_uuid"] == instance_uuid]

    def migration_show(self, ctxt, uuid):
        with self.lock:
            m = self.migrations.get(uuid)
            if m is None:
                raise exception.MigrationNotFound(migration_id=uuid)
            if m["status"] == "running":
                m["memory_processed"] += m["memory_total"] // 4
                m["memory_remaining"] = m["memory_total"] - m["memory_processed"]
                m["progress"] = 100 * m["memory_processed"] // m["memory_total"]
                if m["memory_remaining"] == 0:
                    m["status"] = "completed"
                    m["downtime_ms"] = 12
                    s = self.servers[m["instance_uuid"]]
                    s.update(host=m["dest_compute"], node=m["dest_compute"], task_state=None)
            return dict(m)


uuid_mod = uuid


def main():
    conf = cfg.ConfigOpts()
    conf([])
    messaging.set_transport_defaults(control_exchange=sys.argv[2])
    transport = messaging.get_rpc_transport(conf, url=sys.argv[1])
    target = messaging.Target(topic="conductor", server="cli-peer")
    server = messaging.get_rpc_server(transport, target, [Admin()], executor="threading")
    server.start()
    print("READY", flush=True)
    sys.stdin.read()
    server.stop()
    server.wait()


if __name__ == "__main__":
    main()
