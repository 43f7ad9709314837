"""Command line shared by the echo servers: where to listen, and how to announce it.

Every server prints one JSON line on stdout once it is listening, ``{"port": P,
"api": "..."}`` (P is the real port when asked for port 0), and then serves until it
is killed. Kept free of any async library so each server imports only its own.
"""

from __future__ import annotations

import argparse
import json
import sys

# Every server reads at most this much per receive, and writes back all of it.
RECEIVE_BYTES = 65536


def parse_args(
    description: str, loops: tuple[str, ...] = (), apis: tuple[str, ...] = ()
) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    if loops:
        parser.add_argument("--loop", choices=loops, default=loops[0])
    if apis:
        parser.add_argument("--api", choices=apis, default=apis[0])
    return parser.parse_args()


def announce(port: int, api: str) -> None:
    print(json.dumps({"port": port, "api": api}), flush=True)
    sys.stdout.flush()
