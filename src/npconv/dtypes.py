"""torch-shaped dtype objects mapped onto array-library dtypes."""
from __future__ import annotations

from npconv._backend import xp


class dtype:
    """A tensor element type; prints like torch (``npconv.float32``)."""

    def __init__(self, name: str, np_dtype, is_floating_point: bool, legacy_name: str):
        self.name = name
        self.legacy_name = legacy_name  # torch's scalar type name: FloatTensor, "found Float"
        self.np = xp.dtype(np_dtype)
        self.is_floating_point = is_floating_point
        self.itemsize = self.np.itemsize

    def __repr__(self) -> str:
        return f"npconv.{self.name}"

    def __reduce__(self):
        return (as_dtype, (self.name,))


float16 = half = dtype("float16", xp.float16, True, "Half")
float32 = float = dtype("float32", xp.float32, True, "Float")
float64 = double = dtype("float64", xp.float64, True, "Double")
uint8 = dtype("uint8", xp.uint8, False, "Byte")
int8 = dtype("int8", xp.int8, False, "Char")
int16 = short = dtype("int16", xp.int16, False, "Short")
int32 = int = dtype("int32", xp.int32, False, "Int")
int64 = long = dtype("int64", xp.int64, False, "Long")
bool = dtype("bool", xp.bool_, False, "Bool")

_ALL = (float16, float32, float64, uint8, int8, int16, int32, int64, bool)
_BY_NP = {d.np: d for d in _ALL}
_BY_NAME = {d.name: d for d in _ALL}


def as_dtype(value) -> dtype:
    """Accept an npconv dtype, a numpy dtype/type, or a name; return the npconv dtype."""
    if isinstance(value, dtype):
        return value
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]
    try:
        return _BY_NP[xp.dtype(value)]
    except (TypeError, KeyError):
        raise TypeError(f"unsupported dtype {value!r}; expected one of "
                        f"{', '.join(repr(d) for d in _ALL)}") from None


_CPP_NAMES = {"float16": "c10::Half", "float32": "float", "float64": "double", "int64": "long int",
              "int32": "int", "uint8": "unsigned char", "int8": "signed char",
              "int16": "short int", "bool": "bool"}


def cpp_type_name(d: dtype) -> str:
    """The C++ name torch's messages give a dtype ("Input type (float) and bias type (double)
    ...", "... have the same dtype, but got: float != double")."""
    return _CPP_NAMES[d.name]


_default_dtype = float32


def get_default_dtype() -> dtype:
    return _default_dtype


def set_default_dtype(d) -> None:
    global _default_dtype
    d = as_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_dtype = d
