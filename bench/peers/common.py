"""What both peer scripts share: torch's threads set to the machine's cores, and what to report about torch."""

import os

import torch


def setup():
    """Sets torch's threads to os.cpu_count() (Debian's build starts with 1) and seeds it."""
    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(0)


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
