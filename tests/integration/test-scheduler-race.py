#!/usr/bin/python3
# test-scheduler-race.py: two tern-scheduler processes on one queue, 1,000
# concurrent select_destinations calls (python3-nova's SchedulerQueryClient,
# 64 threads) for 10 hosts of 40 vCPUs (400 one-vCPU instances fit): no host
# ends above its capacity, every instance is placed once or gets NoValidHost,
# exactly the capacity is placed, and both schedulers answered.
import os
import shutil
import sys
import tempfile
import threading
import uuid as uuidlib
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sched_harness as H

H.skip_unless_services('test-scheduler-race')

REQUESTS = 1000
HOSTS = 10
VCPUS = 40

work = tempfile.mkdtemp(prefix='tern-race-')
t = H.Tap()
db = H.Database(work)
scheds = []
try:
    db.fleet('small', str(HOSTS), str(VCPUS), '1048576')
    # host_subset_size 3: the two schedulers do not all go for the same host.
    for name in ('race-a', 'race-b'):
        scheds.append(H.Scheduler(work, db, name,
                                  'debug = true\n[filter_scheduler]\nhost_subset_size = 3\n'))
    ctx, client = H.nova_client(work)
    from nova import exception

    results = {}
    lock = threading.Lock()

    def one(i):
        inst = str(uuidlib.uuid4())
        spec = H.request_spec({}, {'hw_architecture': 'x86_64'}, vcpus=1, ram=256, disk=1,
                              instance_uuid=inst)
        try:
            res = client.select_destinations(ctx, spec, [inst], return_objects=True,
                                             return_alternates=True)
            out = res[0][0].service_host
        except exception.NoValidHost:
            out = None
        except Exception as e:     # anything else is a failure of the test
            out = 'error: %r' % e
        with lock:
            results[inst] = out

    with ThreadPoolExecutor(max_workers=64) as pool:
        list(pool.map(one, range(REQUESTS)))

    errors = [v for v in results.values() if v and v.startswith('error')]
    t.ok(len(results) == REQUESTS and not errors, '%d answers, none an error' % REQUESTS,
         errors[:5])
    placed = {u: h for u, h in results.items() if h and not h.startswith('error')}
    novalid = [u for u, h in results.items() if h is None]
    rows = db.sql("SELECT n.host, n.vcpus, n.vcpus_used, "
                  "(SELECT coalesce(sum(vcpus), 0) FROM allocations a WHERE a.node_id = n.id) "
                  "FROM compute_nodes n ORDER BY host")
    over = [r for r in rows if r[2] > r[1] or r[2] != r[3]]
    t.ok(not over, 'no host above its capacity; usage equals its claims', rows)
    allocs = db.sql("SELECT a.consumer_uuid::text, n.host FROM allocations a "
                    "JOIN compute_nodes n ON n.id = a.node_id")
    by_consumer = {}
    for c, h in allocs:
        by_consumer.setdefault(c, []).append(h)
    twice = {c: h for c, h in by_consumer.items() if len(h) != 1}
    t.ok(not twice, 'every instance claimed at most once', list(twice.items())[:5])
    t.ok(all(by_consumer.get(u) == [h] for u, h in placed.items()),
         'every placed instance holds its claim on the host it was given')
    t.ok(all(u not in by_consumer for u in novalid),
         'NoValidHost instances hold no claim')
    t.ok(len(placed) == HOSTS * VCPUS and len(novalid) == REQUESTS - HOSTS * VCPUS,
         'exactly the capacity placed (%d placed, %d NoValidHost)' % (len(placed), len(novalid)))
    lost = [open(s.log).read().count(' lost for ') for s in scheds]
    print('# claims lost to the other scheduler and retried on another host: %s' % lost)
    answered = [open(s.log).read().count(' -> ') for s in scheds]
    t.ok(all(a > 0 for a in answered), 'both schedulers placed instances %s' % answered)
    for s in scheds:
        t.ok(s.stop() == 0, '%s exits 0' % os.path.basename(s.log))
    scheds = []
finally:
    for s in scheds:
        s.stop()
    db.close()
    H.drop_vhost()
if not t.failed:
    shutil.rmtree(work, ignore_errors=True)   # kept when a test failed: the logs
sys.exit(t.done())
