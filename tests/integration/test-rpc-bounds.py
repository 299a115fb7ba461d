#!/usr/bin/python3
"""test-rpc-bounds.py: rpc/'s resource bounds, configured in a tern.conf and
enforced, against a real RabbitMQ (tests/compat/rpc-peer as the server,
its C client in parallel processes):

  - [oslo_messaging_rabbit] rabbit_qos_prefetch_count = 5: RabbitMQ's
    consumer of the server's queues has prefetch_count 5 (rabbitmqctl);
    unset, the prefetch is the pool size;
  - [DEFAULT] executor_thread_pool_size = 3: 12 calls that each hold a
    handler for 0.6 s all return, and the most handlers ever running at once
    (counted inside the server) is exactly 3;
  - [oslo_messaging_rabbit] max_message_size = 4096: a 5,000-byte call is
    answered with a failure naming max_message_size, a call with a 2,000-byte argument is
    served, and the server keeps serving."""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
URL = os.environ.get("TERN_TEST_TRANSPORT_URL")
if not URL:
    print("1..0 # SKIP TERN_TEST_TRANSPORT_URL is not set (scripts/services start rabbitmq)")
    sys.exit(0)
import conductor_env as env  # noqa: E402

BUILD = os.environ.get("TERN_BUILDDIR", ".")
PEER = os.path.join(BUILD, "tests", "compat", "rpc-peer")
tap = env.Tap()
name = "bounds-%d" % os.getpid()
vhost = None
if env.NODE and env.RHOME and env.rabbitmqctl("add_vhost", name).returncode == 0:
    env.rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    vhost = name
import urllib.parse  # noqa: E402
u = urllib.parse.urlsplit(URL)
vurl = "%s://%s/%s" % (u.scheme, u.netloc, vhost) if vhost else URL
tmp = tempfile.mkdtemp(prefix="tern-%s-" % name)   # never an earlier run's kept logs
os.chmod(tmp, 0o755)
procs = []


def serve(server, conf_text):
    conf = os.path.join(tmp, server + ".conf")
    with open(conf, "w") as fh:
        fh.write(conf_text)
    p = subprocess.Popen([PEER, "serve", vurl, "compute", server], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=open(conf + ".log", "w"), text=True,
                         env=dict(os.environ, TERN_RPC_PEER_CONF=conf))
    procs.append(p)
    line = p.stdout.readline().strip()
    if line != "READY":
        raise RuntimeError("rpc-peer did not start: " + open(conf + ".log").read())
    return p


def consumers(queue):
    r = env.rabbitmqctl("list_consumers", "-p", vhost or "/", "queue_name", "prefetch_count")
    return [line.split("\t")[1] for line in r.stdout.splitlines()
            if line.split("\t")[0] == queue]


try:
    serve("b1", "[DEFAULT]\nexecutor_thread_pool_size = 3\n[oslo_messaging_rabbit]\n"
                "rabbit_qos_prefetch_count = 5\nmax_message_size = 4096\n")
    serve("b2", "[DEFAULT]\nexecutor_thread_pool_size = 7\n")
    tap.check("rabbit_qos_prefetch_count = 5: the broker's consumer of compute.b1 has "
              "prefetch_count 5", consumers("compute.b1") == ["5"], consumers("compute.b1"))
    tap.check("prefetch unset: the pool size (executor_thread_pool_size = 7) is the prefetch",
              consumers("compute.b2") == ["7"], consumers("compute.b2"))

    def call(method, args, timeout=30):
        r = subprocess.run([PEER, "call", vurl, "compute", "b1", method, json.dumps(args),
                            str(timeout)], capture_output=True, text=True, timeout=timeout + 30)
        try:
            return json.loads(r.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            return {"error": "no output", "message": r.stderr[-500:]}

    t0 = time.time()
    holders = [subprocess.Popen([PEER, "call", vurl, "compute", "b1", "hold",
                                 json.dumps({"secs": 0.6}), "30"], stdout=subprocess.PIPE,
                                text=True) for _ in range(12)]
    results = [json.loads(p.communicate(timeout=60)[0].strip().splitlines()[-1])
               for p in holders]
    secs = time.time() - t0
    peak = call("held_max", {}).get("result")
    tap.check("12 concurrent calls holding a handler 0.6 s each all return",
              results == [{"result": "done"}] * 12, results)
    tap.check("executor_thread_pool_size = 3: at most 3 handlers ran at once (peak %s; "
              "12 calls took %.1f s)" % (peak, secs), peak == 3, (peak, secs))

    r = call("echo", {"blob": "x" * 5000})
    tap.check("a 5,000-byte call over max_message_size = 4096: failure reply naming the "
              "limit (%s)" % r.get("message", "")[:120],
              r.get("error") and "max_message_size" in r.get("message", ""), r)
    r = call("echo", {"blob": "y" * 2000})
    tap.check("a call with a 2,000-byte argument (under the limit with its envelope) is served right after",
              r.get("result", {}).get("args", {}).get("blob") == "y" * 2000, str(r)[:300])
    tap.check("the server logged the refusal",
              "larger than max_message_size" in open(os.path.join(tmp, "b1.conf.log")).read())
finally:
    for p in procs:
        try:
            p.stdin.close()
            p.wait(timeout=20)
        except Exception:  # noqa: BLE001
            p.kill()
    if vhost:
        env.rabbitmqctl("delete_vhost", vhost)
    import shutil
    if not tap.failed and sys.exc_info()[0] is None:
        shutil.rmtree(tmp, ignore_errors=True)
sys.exit(tap.done())
