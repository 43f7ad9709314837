"""The socket layer, as ``nursery.socket`` presents it: the async socket type, name
resolution and the hooks that replace it, and the functions that make sockets.

Built on the kernel's public low-level API (``wait_readable``, ``wait_writable``,
``notify_closing``) plus one kernel-private read: the current task's cancel status, so
that an operation that does not block costs one cheap check and one schedule point.
"""
