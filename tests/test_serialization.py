"""npconv.save / npconv.load: round trips, atomic writes, clear errors, and never any pickle."""
import collections
import errno
import io
import json
import os
import pickle
import re
import socket
import stat
import struct
import subprocess
import sys
import tracemalloc
import zipfile

import numpy as np
import pytest

import npconv
from npconv.serialization import load, save

DTYPES = ["float16", "float32", "float64", "uint8", "int8", "int16", "int32", "int64", "bool"]


def _state_dict():
    rng = np.random.default_rng(0)
    sd = collections.OrderedDict()
    for i, name in enumerate(DTYPES):  # names out of alphabetical order check order is kept
        shape = [(3, 4), (), (0, 5), (2, 1, 3)][i % 4]
        values = np.asarray(rng.standard_normal(shape) * 5).astype(name)
        sd[f"{9 - i}.{name}"] = npconv.from_numpy(values)
    return sd


def _assert_same_tensor(got, want):
    assert isinstance(got, npconv.Tensor)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got.numpy(), want.detach().numpy())


def test_state_dict_round_trip_keeps_order_dtype_shape_and_values(tmp_path):
    sd = _state_dict()
    save(sd, tmp_path / "model.npc")
    loaded = load(tmp_path / "model.npc")
    assert type(loaded) is collections.OrderedDict
    assert list(loaded) == list(sd)
    for key in sd:
        _assert_same_tensor(loaded[key], sd[key])


def test_nested_values_round_trip(tmp_path):
    weight = npconv.randn(2, 3)
    obj = {
        "state": {0: {"step": 7, "exp_avg": npconv.zeros(3)}, 1: {"step": 7}},
        "param_groups": [{"params": [0, 1], "lr": 1e-3, "betas": (0.9, 0.999), "amsgrad": False,
                          "name": None, "maximize": True}],
        "array": np.arange(6, dtype=np.int32).reshape(2, 3),
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "np_scalar": np.float32(2.5),
        "big_int": 2**62, "float_keys": {1.5: "a", (1, "b"): "tuple key", True: "bool key"},
        "nan": float("nan"), "text": "héllo", "empty": [], "empty_dict": {},
        "tied_a": weight, "tied_b": weight,
        "milestones": collections.Counter([30, 60, 60]),  # MultiStepLR's state_dict
        "inf": float("inf"),  # ReduceLROnPlateau's best before any metric
    }
    path = tmp_path / "nested.npc"
    save(obj, path)
    got = load(path)
    assert got["state"][0]["step"] == 7 and type(got["state"][0]["step"]) is int
    _assert_same_tensor(got["state"][0]["exp_avg"], obj["state"][0]["exp_avg"])
    assert got["param_groups"] == [{"params": [0, 1], "lr": 1e-3, "betas": (0.9, 0.999),
                                    "amsgrad": False, "name": None, "maximize": True}]
    assert got["array"].dtype == np.int32 and got["array"].tolist() == obj["array"].tolist()
    np.testing.assert_array_equal(got["fortran"], obj["fortran"])
    assert type(got["np_scalar"]) is np.float32 and got["np_scalar"] == 2.5
    assert got["big_int"] == 2**62
    assert got["float_keys"] == obj["float_keys"]
    assert np.isnan(got["nan"]) and got["text"] == "héllo"
    assert got["empty"] == [] and got["empty_dict"] == {}
    assert got["tied_a"] is got["tied_b"]  # tied weights stay tied
    assert type(got["milestones"]) is collections.Counter and got["milestones"] == \
        collections.Counter({30: 1, 60: 2})
    assert got["inf"] == float("inf")


def test_tensors_that_require_grad_and_views_are_saved_as_plain_tensors(tmp_path):
    param = npconv.randn(4, 3, requires_grad=True)
    transposed = npconv.from_numpy(np.arange(12.0).reshape(3, 4).T)
    save({"param": param, "transposed": transposed}, tmp_path / "p.npc")
    got = load(tmp_path / "p.npc")
    _assert_same_tensor(got["param"], param)
    assert not got["param"].requires_grad
    _assert_same_tensor(got["transposed"], transposed)


def test_top_level_save_and_load_are_the_serialization_functions(tmp_path):
    sd = _state_dict()
    npconv.save(sd, tmp_path / "m.npc")
    loaded = npconv.load(str(tmp_path / "m.npc"), map_location="cpu", weights_only=True)
    assert list(loaded) == list(sd)


def test_file_objects(tmp_path):
    buffer = io.BytesIO()
    save([npconv.ones(2), "x"], buffer)
    buffer.seek(0)
    tensor, text = load(buffer)
    _assert_same_tensor(tensor, npconv.ones(2))
    assert text == "x"


def test_atomic_write_leaves_no_temporary_file_and_honours_umask(tmp_path):
    path = tmp_path / "model.npc"
    save(_state_dict(), path)
    save(_state_dict(), path)  # replacing an existing file
    assert os.listdir(tmp_path) == ["model.npc"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~umask


def test_failed_save_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "model.npc"
    save({"w": npconv.ones(3)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="cannot store set"):
        save({"w": npconv.zeros(3), "bad": {1, 2}}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npc"]


@pytest.mark.parametrize("keep", [0, 10, 100, 0.5, -1])
def test_truncated_file_raises_a_clear_error(tmp_path, keep):
    path = tmp_path / "model.npc"
    save(_state_dict(), path)
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep) if isinstance(keep, float) else keep])
    with pytest.raises(RuntimeError, match=r"model\.npc is not a readable npconv checkpoint: "
                                           r"it is truncated or corrupt"):
        load(path)


def test_corrupted_bytes_are_detected(tmp_path):
    path = tmp_path / "model.npc"
    save({"w": npconv.zeros(1000)}, path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the array's data: the zip CRC catches it
    path.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match="truncated or corrupt"):
        load(path)


def test_files_that_are_not_npconv_checkpoints(tmp_path):
    plain = tmp_path / "notes.txt"
    plain.write_text("hello")
    with pytest.raises(RuntimeError, match="notes.txt is not a readable npconv checkpoint"):
        load(plain)

    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(RuntimeError, match="other.zip is not an npconv checkpoint: it has no "
                                           "npconv.json"):
        load(other_zip)

    with zipfile.ZipFile(tmp_path / "future.npc", "w") as z:
        z.writestr("npconv.json", json.dumps({"format": "npconv.save", "version": 99,
                                              "root": None}))
    with pytest.raises(RuntimeError, match="version 99"):
        load(tmp_path / "future.npc")

    with zipfile.ZipFile(tmp_path / "odd.npc", "w") as z:
        z.writestr("npconv.json", "[1, 2]")
    with pytest.raises(RuntimeError, match="format None, version None"):
        load(tmp_path / "odd.npc")


def test_torch_checkpoint_gets_a_hint_and_is_not_unpickled(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(RuntimeError, match="looks like a torch.save file; npconv never unpickles"):
        load(path)


_side_effects = []


def _record_side_effect():
    _side_effects.append("unpickled")
    return "payload"


class _Evil:
    def __reduce__(self):
        return (_record_side_effect, ())


def test_pickled_members_are_refused_without_running_them(tmp_path):
    path = tmp_path / "evil.npc"
    save({"w": np.zeros(2)}, path)  # a valid archive, whose one array we swap for a pickle
    payload = io.BytesIO()
    np.save(payload, np.array([_Evil()], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(path) as z:
        manifest = z.read("npconv.json")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("npconv.json", manifest)
        z.writestr("data/0.npy", payload.getvalue())
    with pytest.raises(RuntimeError, match="holds an array of dtype object: Python objects, "
                                           "which only pickle could read"):
        load(path)
    assert _side_effects == []


def test_loading_never_touches_pickle(tmp_path, monkeypatch):
    save(_state_dict(), tmp_path / "m.npc")

    def forbidden(*args, **kwargs):
        raise AssertionError("pickle was used")
    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, forbidden)
    assert list(load(tmp_path / "m.npc")) == list(_state_dict())


def test_object_arrays_and_unsupported_types_are_refused(tmp_path):
    with pytest.raises(TypeError, match="arrays of Python objects"):
        save({"a": np.array([object()])}, tmp_path / "a.npc")
    with pytest.raises(TypeError, match="cannot store _Evil objects"):
        save([_Evil()], tmp_path / "b.npc")
    assert os.listdir(tmp_path) == []


# --- saving writes the file, as open(path, 'wb') would, only atomically ---------------------

@pytest.mark.parametrize("mode", [0o600, 0o664])  # 0o664: bits the umask (022) would drop stay
def test_save_keeps_the_mode_of_an_existing_file(tmp_path, mode):
    path = tmp_path / "model.npc"
    save({"w": npconv.ones(2)}, path)
    os.chmod(path, mode)
    save({"w": npconv.zeros(2)}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == mode
    _assert_same_tensor(load(path)["w"], npconv.zeros(2))


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="only root can give a file to another user")
def test_save_as_root_keeps_the_owner_of_an_existing_file(tmp_path):
    path = tmp_path / "model.npc"
    save({"w": npconv.ones(2)}, path)
    os.chown(path, 65534, 65534)
    save({"w": npconv.zeros(2)}, path)
    assert (os.stat(path).st_uid, os.stat(path).st_gid) == (65534, 65534)


def test_read_only_file_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "model.npc"
    save({"w": npconv.ones(2)}, path)
    os.chmod(path, 0o444)
    before = path.read_bytes()
    with pytest.raises(PermissionError) as info:
        save({"w": npconv.zeros(2)}, path)
    assert str(info.value).startswith(f"[Errno 13] Permission denied: {str(path)!r}; it is "
                                      "read-only (mode 0o444)")
    assert path.read_bytes() == before and stat.S_IMODE(os.stat(path).st_mode) == 0o444
    assert os.listdir(tmp_path) == ["model.npc"]


def test_read_only_directory_is_refused(tmp_path):
    directory = tmp_path / "frozen"
    directory.mkdir()
    os.chmod(directory, 0o555)
    try:
        with pytest.raises(PermissionError) as info:
            save({"w": npconv.ones(2)}, directory / "model.npc")
        assert os.listdir(directory) == []
    finally:
        os.chmod(directory, 0o755)
    assert str(info.value).startswith(f"[Errno 13] Permission denied: "
                                      f"{str(directory / 'model.npc')!r}; its directory "
                                      f"{directory} is read-only")


def test_save_writes_through_a_symlink(tmp_path):
    (tmp_path / "store").mkdir()
    target = tmp_path / "store" / "model.npc"
    save({"w": npconv.ones(2)}, target)
    link = tmp_path / "latest.npc"
    link.symlink_to(target)
    save({"w": npconv.zeros(2)}, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    _assert_same_tensor(load(target)["w"], npconv.zeros(2))
    assert sorted(os.listdir(tmp_path)) == ["latest.npc", "store"]
    assert os.listdir(tmp_path / "store") == ["model.npc"]  # the temporary went next to target

    dangling = tmp_path / "next.npc"
    dangling.symlink_to(tmp_path / "store" / "new.npc")
    save({"w": npconv.ones(2)}, dangling)  # creates the target, as open(dangling, 'wb') does
    assert dangling.is_symlink()
    _assert_same_tensor(load(tmp_path / "store" / "new.npc")["w"], npconv.ones(2))


def test_a_device_is_written_not_replaced(tmp_path):
    device = tmp_path / "null"  # a device like os.devnull, where replacing it harms nothing
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (AttributeError, PermissionError):
        pytest.skip("needs mknod (root on POSIX)")
    save({"w": npconv.ones(3)}, device)
    assert stat.S_ISCHR(os.stat(device).st_mode)
    assert os.listdir(tmp_path) == ["null"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_pipe_is_written_not_replaced(tmp_path):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    reader = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)  # so that opening it to write succeeds
    try:
        save({"w": npconv.ones(3)}, pipe)  # small enough for the pipe's buffer
        data = os.read(reader, 1 << 16)
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)
    _assert_same_tensor(load(io.BytesIO(data))["w"], npconv.ones(3))


@pytest.mark.parametrize("relative", [False, True])
def test_missing_parent_directory_is_named_as_torch_names_it(tmp_path, monkeypatch, relative):
    torch = pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    path = os.path.join("missing" if relative else str(tmp_path / "missing"), "model.npc")
    with pytest.raises(RuntimeError) as want:
        torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(RuntimeError) as got:
        save({"w": npconv.ones(2)}, path)
    assert str(got.value).startswith(str(want.value))
    assert "create it first" in str(got.value) and ".npconv-tmp" not in str(got.value)
    assert os.listdir(tmp_path) == []


def test_saving_to_a_directory_fails_as_open_does(tmp_path):
    with pytest.raises(IsADirectoryError) as want:
        open(tmp_path, "wb")
    with pytest.raises(IsADirectoryError) as got:
        save({"w": npconv.ones(2)}, tmp_path)
    assert str(got.value) == str(want.value)
    assert os.listdir(tmp_path) == []


def test_an_os_error_while_writing_names_the_users_path(tmp_path, monkeypatch):
    path = tmp_path / "model.npc"
    save({"w": npconv.ones(2)}, path)
    before = path.read_bytes()

    def failing_fsync(fd):
        raise OSError(errno.EIO, os.strerror(errno.EIO))
    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError) as info:
        save({"w": npconv.zeros(2)}, path)
    assert str(info.value).startswith(f"[Errno {errno.EIO}] {os.strerror(errno.EIO)}: "
                                      f"{str(path)!r}; ")
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.npc"]


def test_temporaries_left_by_killed_saves_are_removed(tmp_path):
    path = tmp_path / "model.npc"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # its pid names no process now
    host = socket.gethostname()
    stale = tmp_path / f".model.npc.{host}.{dead.pid}.0badf00d.npconv-tmp"
    live = tmp_path / f".model.npc.{host}.{os.getpid()}.0badf00d.npconv-tmp"  # a save under way
    other_host = tmp_path / f".model.npc.elsewhere.{dead.pid}.0badf00d.npconv-tmp"
    other_file = tmp_path / f".other.npc.{host}.{dead.pid}.0badf00d.npconv-tmp"
    for temporary in (stale, live, other_host, other_file):
        temporary.write_bytes(b"torn")
    save({"w": npconv.ones(2)}, path)
    assert sorted(os.listdir(tmp_path)) == sorted(p.name for p in (path, live, other_host,
                                                                   other_file))


# --- loading refuses crafted files from their headers, with the documented error ------------

def _npy(array) -> bytes:
    out = io.BytesIO()
    np.save(out, array, allow_pickle=array.dtype.hasobject)
    return out.getvalue()


def _write_checkpoint(path, root: str, members=None, deflated=()):
    """A hand-made checkpoint: a manifest whose root is the JSON text ``root``, and members."""
    manifest = f'{{"format": "npconv.save", "version": 1, "root": {root}}}'
    with zipfile.ZipFile(path, "w") as z:
        for name, data in {"npconv.json": manifest, **(members or {})}.items():
            z.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED if name in deflated
                       else zipfile.ZIP_STORED)


def _patch_directory_entry(path, member: str, **fields):
    """Overwrite fields of ``member``'s central directory entry (what zipfile trusts), which
    ends the file and has its 46 fixed bytes right before the member's name."""
    offsets = {"flag_bits": (8, "<H"), "compress_size": (20, "<I"), "file_size": (24, "<I")}
    data = bytearray(path.read_bytes())
    entry = data.rindex(member.encode()) - 46
    assert data[entry:entry + 4] == b"PK\x01\x02"
    for name, value in fields.items():
        offset, fmt = offsets[name]
        struct.pack_into(fmt, data, entry + offset, value)
    path.write_bytes(bytes(data))


def _load_refused(path, reason: str):
    with pytest.raises(RuntimeError, match=rf"{path.name} is not a readable npconv checkpoint: "
                                           rf"it is truncated or corrupt \(.*{reason}"):
        load(path)


@pytest.mark.parametrize("bomb", ["data/0.npy", "npconv.json"])
def test_compressed_members_are_refused_before_expanding(tmp_path, bomb):
    size = 2**22  # 4 MB of zeros or spaces deflate to about 4 kB
    path = tmp_path / "bomb.npc"
    if bomb == "data/0.npy":
        _write_checkpoint(path, '{"tensor": "data/0.npy"}',
                          {bomb: _npy(np.zeros(size, np.uint8))}, deflated=[bomb])
    else:
        _write_checkpoint(path, '"' + " " * size + '"', deflated=[bomb])
    assert path.stat().st_size < size // 100
    tracemalloc.start()
    try:
        _load_refused(path, f"member '{bomb}' is compressed")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < size // 4  # nothing was expanded


@pytest.mark.parametrize("root, reason", [
    ('{"list": 5}', "a 'list' node holds a list, not 5"),
    ('{"tuple": {"a": 1}}', "a 'tuple' node holds a list"),
    ('{"dict": 5}', "a 'dict' node holds a list"),
    ('{"odict": [5]}', r"a 'odict' node holds \[key, value\] pairs"),
    ('{"dict": [[{"list": []}, 1]]}', "a 'dict' node has an unusable key"),
    ('{"tensor": 5}', "a 'tensor' node names a member, not 5"),
    ('{"ndarray": ["data/0.npy"]}', "a 'ndarray' node names a member"),
    ('{"list": [1, {"tensor": "data/9.npy"}]}', "KeyError"),
])
def test_crafted_manifests_are_refused(tmp_path, root, reason):
    path = tmp_path / "crafted.npc"
    _write_checkpoint(path, root, {"data/0.npy": _npy(np.zeros(2, np.float32))})
    _load_refused(path, reason)


def test_a_deeply_nested_manifest_is_refused(tmp_path):
    path = tmp_path / "deep.npc"
    _write_checkpoint(path, '{"list": [' * 100_000 + "]}" * 100_000)
    _load_refused(path, "RecursionError")


def _header(shape, descr="<f4") -> bytes:
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": descr, "fortran_order": False,
                                               "shape": shape})
    return out.getvalue()


@pytest.mark.parametrize("lie", ["header", "header and zip directory"])
def test_an_array_larger_than_its_member_is_refused_before_allocating(tmp_path, lie):
    path = tmp_path / "huge.npc"
    shape = (2**40,) if lie == "header" else (2**30 - 100,)  # 4 TB / 4 GB of float32
    _write_checkpoint(path, '{"tensor": "data/0.npy"}', {"data/0.npy": _header(shape) + bytes(64)})
    if lie != "header":  # the directory agrees with the header, but the file is 4 GB too short
        size = len(_header(shape)) + 4 * shape[0]
        _patch_directory_entry(path, "data/0.npy", compress_size=size, file_size=size)
    tracemalloc.start()
    try:
        _load_refused(path, "declares")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**24


def test_an_encrypted_member_is_refused(tmp_path):
    path = tmp_path / "locked.npc"
    _write_checkpoint(path, '{"tensor": "data/0.npy"}', {"data/0.npy": _npy(np.zeros(2))})
    _patch_directory_entry(path, "data/0.npy", flag_bits=0x1)
    _load_refused(path, "is compressed or encrypted")


@pytest.mark.parametrize("array", [
    np.arange(3, dtype=">f4"), np.zeros(3, np.complex64), np.zeros(3, np.uint32),
    np.zeros(3, [("a", "<i4"), ("b", "<f8")]),
], ids=["big-endian", "complex", "uint32", "structured"])
def test_tensors_of_dtypes_npconv_lacks_are_refused(tmp_path, array):
    path = tmp_path / "odd.npc"
    _write_checkpoint(path, '{"tensor": "data/0.npy"}', {"data/0.npy": _npy(array)})
    _load_refused(path, rf"holds a tensor of dtype {re.escape(str(array.dtype))}; npconv "
                        "tensors have the dtypes float16, float32")


def test_a_scalar_member_with_a_shape_is_refused(tmp_path):
    path = tmp_path / "odd.npc"
    _write_checkpoint(path, '{"scalar": "data/0.npy"}', {"data/0.npy": _npy(np.zeros(3))})
    _load_refused(path, r"holds a scalar, yet its shape is \(3,\)")


def test_numpy_arrays_of_any_dtype_but_object_still_round_trip(tmp_path):
    arrays = [np.arange(3, dtype=">f4"), np.arange(3) * 1j, np.zeros(2, [("a", "<i4")]),
              np.array(["cat", "dog"]), np.uint32(7), np.str_("text")]
    save(arrays, tmp_path / "a.npc")
    for got, want in zip(load(tmp_path / "a.npc"), arrays):
        assert got.dtype == want.dtype and type(got) is type(want)
        np.testing.assert_array_equal(got, want)
