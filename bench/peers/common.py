"""What both peer scripts share: torch's threads set to the machine's cores, and what to report about torch."""

import os

import torch


def setup():
    """Seeds torch."""
    torch.manual_seed(0)


def thread_counts():
    """The thread counts to try: 1 and os.cpu_count().

    Debian's build starts with 1 thread, and on this 2-core machine 2 threads (torch's OpenMP plus
    OpenBLAS's own pthreads) make a LoRA step 2-3x slower than 1, while a big product gains from 2:
    the peer is torch at its best, so each measurement runs at both and keeps the faster.
    """
    return sorted({1, os.cpu_count() or 1})


def fastest(measure):
    """measure() -> seconds, at each of thread_counts(); returns (seconds, threads, {threads: seconds})."""
    tried = {}
    for threads in thread_counts():
        torch.set_num_threads(threads)
        tried[threads] = measure()
    best = min(tried, key=tried.get)
    torch.set_num_threads(best)
    return tried[best], best, tried


def blas():
    """The BLAS torch's fp32 products go to: the library mapped into this process, else the build's BLAS_INFO.

    Debian's python3-torch calls libblas.so.3, which is the unblocked reference BLAS
    (/usr/lib/x86_64-linux-gnu/blas/) unless an optimised one (libopenblas0-pthread) is installed.
    """
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                name = os.path.basename(line.split()[-1])
                if "blas" in name or "mkl" in name:
                    return os.path.realpath(line.split()[-1])
    except OSError:
        pass
    config = torch.__config__.show()
    return config.split("BLAS_INFO=")[1].split(",")[0] if "BLAS_INFO=" in config else "unknown"


def about():
    return {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas()}
