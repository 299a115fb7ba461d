#!/usr/bin/python3
"""rpc-oslo.py: the Python oslo.messaging side of bench/rpc (the same
measurement as rpc-bench, with Debian's oslo.messaging on both ends).

    rpc-oslo.py serve URL TOPIC              prints READY, serves until stdin closes
    rpc-oslo.py client URL TOPIC N THREADS   prints {median_ms, p99_ms, calls_per_s}"""
import json
import os
import sys
import tempfile
import threading
import time

import oslo_messaging as om
from oslo_config import cfg

mode, url, topic = sys.argv[1], sys.argv[2], sys.argv[3]
fd, conf = tempfile.mkstemp(suffix=".conf")
with os.fdopen(fd, "w") as fh:
    fh.write("[DEFAULT]\ntransport_url = %s\n" % url)
cfg.CONF([], default_config_files=[conf])
os.unlink(conf)
om.set_transport_defaults("nova")
transport = om.get_rpc_transport(cfg.CONF)


class Endpoint(object):
    target = om.Target(version="1.0")

    def echo(self, ctxt, **kw):
        return kw


if mode == "serve":
    srv = om.get_rpc_server(transport, om.Target(topic=topic, server="bench"), [Endpoint()],
                            executor="threading")
    srv.start()
    time.sleep(1)   # queues are declared by start(); give the consumer a moment
    print("READY", flush=True)
    sys.stdin.read()
    srv.stop()
    srv.wait()
    sys.exit(0)

n, threads = int(sys.argv[4]), int(sys.argv[5])
client = om.get_rpc_client(transport, om.Target(topic=topic, version="1.0"), timeout=10)
ctx = {"user_id": "bench", "project_id": "bench"}
for _ in range(200):
    client.call(ctx, "echo", i=1, s="hello")
per = n // threads
lat = []
lock = threading.Lock()


def work():
    mine = []
    for _ in range(per):
        t0 = time.perf_counter()
        client.call(ctx, "echo", i=1, s="hello")
        mine.append(time.perf_counter() - t0)
    with lock:
        lat.extend(mine)


t0 = time.perf_counter()
ths = [threading.Thread(target=work) for _ in range(threads)]
for t in ths:
    t.start()
for t in ths:
    t.join()
wall = time.perf_counter() - t0
lat.sort()
print(json.dumps({"median_ms": lat[len(lat) // 2] * 1000, "p99_ms": lat[int(len(lat) * 0.99)] * 1000,
                  "calls_per_s": len(lat) / wall, "calls": len(lat)}))
