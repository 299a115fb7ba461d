"""bench/steal.py: the hypervisor's CPU steal over a stretch of a benchmark
(time this VM's vCPUs were ready to run while the host ran something else),
from /proc/stat's cpu line; the benchmarks print it beside their latencies,
whose tail follows it."""


def cpu_times():
    """The machine's CPU time counters (/proc/stat's cpu line, in ticks)."""
    with open('/proc/stat') as f:
        return [int(v) for v in f.readline().split()[1:]]


def steal_percent(before):
    """The steal since before (a cpu_times()), in % of all CPU time."""
    d = [b - a for a, b in zip(before, cpu_times())]
    return 100.0 * d[7] / max(1, sum(d)) if len(d) > 7 else 0.0
