"""A parallel file hasher on nursery's async files: nursery.Path to walk a directory,
open_file to read, a CapacityLimiter to bound how many files are open at once, and a
progress line as each file is done."""

import hashlib
import tempfile

import nursery

BLOCK = 64 * 1024


async def make_sample_tree(root: nursery.Path) -> None:
    # A small tree to hash: a few files of different sizes, one in a subdirectory.
    await (root / "sub").mkdir()
    for i in range(12):
        folder = root / "sub" if i % 4 == 0 else root
        await (folder / f"file{i:02}.bin").write_bytes(bytes([i]) * (i * 50_000 + 1))


async def hash_file(path: nursery.Path) -> str:
    digest = hashlib.sha256()
    # Each read runs in a worker thread; the run goes on meanwhile.
    async with await path.open("rb") as f:
        while block := await f.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


async def hash_tree(root: nursery.Path, max_open: int = 4) -> dict[str, str]:
    paths = sorted([path for path in await root.rglob("*") if await path.is_file()])
    limiter = nursery.CapacityLimiter(max_open)  # at most max_open files open at once
    digests: dict[str, str] = {}

    async def hash_one(path: nursery.Path) -> None:
        async with limiter:
            size = (await path.stat()).st_size
            digest = await hash_file(path)
        digests[str(path.relative_to(root))] = digest  # no await between this and print
        print(f"[{len(digests):2}/{len(paths)}] {digest[:12]}  {size:>8} B  {path.name}")

    async with nursery.open_nursery() as n:
        for path in paths:
            n.start_soon(hash_one, path)
    return digests


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = nursery.Path(tmp)
        await make_sample_tree(root)
        digests = await hash_tree(root)
        # Check against plain blocking hashing of the same files.
        for name, digest in digests.items():
            data = await (root / name).read_bytes()
            assert hashlib.sha256(data).hexdigest() == digest
        print(f"hashed {len(digests)} files")


if __name__ == "__main__":
    nursery.run(main)
