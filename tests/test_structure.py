"""The package's structure: imports point one way down the layers, nothing private crosses
files, and importing npconv changes no process-wide state."""
import ast
import ctypes
import ctypes.util
import os
import platform
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import npconv

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "npconv"

# Lowest first. A module may import its own layer and the layers below, never one above:
# kernels <- autograd <- tensor <- nn <- tools/cli. random needs only numpy, so tensor and
# creation may draw from it; the package root re-exports the tensor layer and serialization, so
# only the programs on top may import it.
LAYERS = [
    ["npconv._backend", "npconv.memory"],
    ["npconv.dtypes", "npconv.device", "npconv.random", "npconv.kernels", "npconv.cuda",
     "npconv.accelerator", "npconv.backends"],
    ["npconv.autograd"],
    ["npconv.tensor", "npconv.creation", "npconv.functional_ops"],
    ["npconv.nn", "npconv.optim", "npconv.utils", "npconv.vision", "npconv.serialization"],
    ["npconv"],
    ["npconv.models", "npconv.training", "npconv.viz", "npconv.analysis", "npconv.cli",
     "npconv.__main__"],
]


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> int:
    for i, names in enumerate(LAYERS):
        if any(module == n or (n != "npconv" and module.startswith(n + ".")) for n in names):
            return i
    raise AssertionError(f"{module} is in no layer of tests/test_structure.py: add it to LAYERS")


def _imports(module: str):
    """(line, imported npconv module, imported name or None) for every import in module, at top
    level and inside functions alike; ``from pkg import sub`` counts as importing pkg.sub."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "npconv":
                    yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            if base.split(".")[0] != "npconv":
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield (node.lineno, sub, None) if sub in MODULES else (node.lineno, base,
                                                                        alias.name)


def test_every_module_is_in_a_layer():
    for module in MODULES:
        _layer(module)


def test_imports_never_reach_up_a_layer():
    upward = [f"{MODULES[m].relative_to(SRC)}:{line} imports {target} (layer {_layer(target)} "
              f"> {_layer(m)})"
              for m in MODULES for line, target, _ in sorted(_imports(m), key=lambda i: i[0])
              if _layer(target) > _layer(m)]
    assert not upward, "imports reaching up a layer:\n" + "\n".join(upward)


def test_module_imports_have_no_cycle():
    """Within a layer too: a lazy import inside a function must not hide a cycle."""
    graph = {m: {t for _, t, _ in _imports(m) if t != m} for m in MODULES}
    state = {}

    def visit(m, path):
        state[m] = "open"
        for t in sorted(graph.get(m, ())):
            if state.get(t) == "open":
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(t):] + [t]))
            if t not in state:
                visit(t, path + [t])
        state[m] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_no_private_name_is_imported_from_another_file():
    private = {(m, target, name) for m in MODULES for _, target, name in _imports(m)
               if name and name.startswith("_") and not name.startswith("__")}
    assert not private, "make these public where they belong, or move them: " + \
        ", ".join(f"{m} imports {name} from {target}" for m, target, name in sorted(private))


def test_ops_build_plain_tensors_without_autograd_knowing_the_tensor_class():
    """The engine makes results through its tensor inputs, never as their subclass."""
    import npconv.nn as nn
    p = nn.Parameter(npconv.ones(2, 3))
    for result in (p * 2, p.sum(), npconv.max(p, 1)[0], p.reshape(3, 2)):
        assert type(result) is npconv.Tensor and result.grad_fn is not None
    (p * 2).sum().backward()
    assert type(p.grad) is npconv.Tensor and p.grad.tolist() == [[2.0] * 3] * 2


def test_package_root_builds_no_names_through_globals():
    """Every public function is written out, so editors, linters and help() can see it."""
    assert "globals()" not in (PACKAGE / "__init__.py").read_text()


# ---- no process-wide state changes on import ---------------------------------------------------
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
