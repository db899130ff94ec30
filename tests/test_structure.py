"""Importing npconv changes no process-wide state: a library must not."""
import ctypes
import ctypes.util
import os
import platform
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


def _run(*snippets: str) -> str:
    """What a fresh interpreter running the snippets prints, with this checkout's npconv and
    none of the environment's malloc settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    env["PYTHONPATH"] = str(SRC)
    code = "\n".join(textwrap.dedent(s) for s in snippets)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True)
    return done.stdout.strip()


IMPORT_ALL = """
    import importlib, pkgutil
    import npconv
    for info in pkgutil.walk_packages(npconv.__path__, "npconv."):
        if info.name != "npconv.__main__":
            importlib.import_module(info.name)
"""

# Bytes glibc serves by mmap while a 64 MB array is alive (mallinfo2().hblkhd grows by it):
# glibc's default mmap threshold is at most 32 MB, so a 64 MB block is mmapped unless someone
# raised the threshold, which is what keep_freed_memory() does.
MMAPPED_64MB = """
    import ctypes, numpy as np
    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks",
                    "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    before = libc.mallinfo2().hblkhd
    block = np.ones(64 << 20, dtype=np.uint8)
    print(libc.mallinfo2().hblkhd - before >= 64 << 20)
"""


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc"
                    or not hasattr(ctypes.CDLL(ctypes.util.find_library("c")), "mallinfo2"),
                    reason="the malloc policy is glibc's (mallinfo2 needs glibc >= 2.33)")
def test_importing_npconv_leaves_malloc_policy_alone_and_keep_freed_memory_is_opt_in():
    assert _run(IMPORT_ALL, MMAPPED_64MB) == "True"
    opted_in = "from npconv.memory import keep_freed_memory\nassert keep_freed_memory()"
    assert _run(opted_in, MMAPPED_64MB) == "False"


def test_importing_npconv_leaves_numpy_and_warnings_settings_alone():
    before = """
        import sys, warnings, numpy as np
        state = lambda: (np.get_printoptions(), np.geterr(), warnings.filters[:],
                         sys.getrecursionlimit())
        before = state()
    """
    assert _run(before, IMPORT_ALL, "print(state() == before)") == "True"
