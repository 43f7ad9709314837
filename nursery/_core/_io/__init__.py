"""The I/O backend: a typed contract and its epoll implementation."""
