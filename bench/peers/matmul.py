"""Square fp32 products in plain PyTorch (torch.mm): the peer of bench/matmul.ts's square shapes.

Reads {"sizes": [n, ...]} as one JSON object (argv[1], or stdin when there is no argument) and prints
one JSON line: GFLOP/s and seconds per product for each size (2·n³ flops), the torch version, its
thread count and the BLAS its products go to. Per size: two untimed products, then the median of 5
batches of products, each batch sized to last about 0.3 s (as bench/lib.ts's timeGpu does).
"""

import json
import sys
import time

import torch
from common import about, fastest, setup


def seconds(n, reps=5, batch_seconds=0.3):
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    c = torch.empty(n, n)
    torch.mm(a, b, out=c)
    t0 = time.perf_counter()
    torch.mm(a, b, out=c)
    once = max(1e-6, time.perf_counter() - t0)
    calls = max(1, min(1000, round(batch_seconds / once)))
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(calls):
            torch.mm(a, b, out=c)
        times.append((time.perf_counter() - t0) / calls)
    return sorted(times)[len(times) // 2]


def main():
    cfg = json.loads(sys.argv[1] if len(sys.argv) > 1 else sys.stdin.read())
    setup()
    results = []
    for n in cfg["sizes"]:
        s, threads, _ = fastest(lambda: seconds(n))
        results.append({"n": n, "s": s, "gflops": 2 * n**3 / s / 1e9, "threads": threads})
    print(json.dumps({**about(), "results": results}))


if __name__ == "__main__":
    main()
