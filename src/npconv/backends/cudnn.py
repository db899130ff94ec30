"""``npconv.backends.cudnn``: torch's flags with torch's defaults; cuDNN is never available."""
from __future__ import annotations

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version():
    """None, as torch reports when there is no cuDNN."""
    return None
