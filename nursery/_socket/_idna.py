"""Host names to bytes, as nursery resolves them: IDNA 2008 rather than the IDNA 2003
codec that the standard library applies to ``str`` host names (which sends some names
to a different host than the one meant).

Its own module, with no imports from the rest of nursery: ``nursery.lowlevel`` re-exports
it, and the kernel's modules import that.
"""

from __future__ import annotations

from collections.abc import Callable

# The optional ``idna`` package (not a dependency of nursery: installed, it is used).
_idna_encode: Callable[..., bytes] | None = None
try:
    import idna  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - depends on the environment
    pass
else:
    _idna_encode = idna.encode


def encode_hostname(hostname: str) -> bytes:
    """The bytes nursery resolves for ``hostname``: ASCII names unchanged, others
    encoded with IDNA 2008 (UTS 46 mapping, so capitals are lowered), not the IDNA 2003
    codec the standard library would use (which maps some names to another host)."""
    try:
        return hostname.encode("ascii")
    except UnicodeEncodeError:
        pass
    if _idna_encode is None:  # pragma: no cover
        return hostname.encode("idna")
    return _idna_encode(hostname, uts46=True)
