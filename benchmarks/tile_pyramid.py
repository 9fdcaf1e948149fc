"""Time ``build_pyramid`` on a 6000×8000 synthetic page, beside ``vips dzsave --layout iiif3``.

    .venv/bin/python benchmarks/pyramid.py [--format tiff|jpeg] [--repeat 3]

The machine is noisy: compare the ratio printed by one run, not times across runs
(see ../shared/design/PERFORMANCE.md, "Building the pyramid"). Without ``vips`` on PATH
only our figure is printed (Debian: ``apt install libvips-tools``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from digitization.derivatives import build_pyramid
from digitization.samples import make_sample_page

WIDTH, HEIGHT, TILE, QUALITY = 6000, 8000, 512, 85


def best_of(repeat: int, run: Callable[[int], None]) -> float:
    """Return the shortest wall time of ``run(i)`` over ``repeat`` runs."""
    times = []
    for i in range(repeat):
        start = time.perf_counter()
        run(i)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--format", choices=["tiff", "jpeg"], default="tiff")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pyramid-bench-") as tmp:
        work = Path(tmp)
        master = work / f"page.{'tif' if args.format == 'tiff' else 'jpg'}"
        make_sample_page(
            master, seed=1, page_no=1, width=WIDTH, height=HEIGHT, fmt=args.format.upper()
        )
        with Image.open(master) as im:
            kind = f"{im.format} {im.mode} ({im.info.get('compression', 'baseline')})"
        print(f"master: {WIDTH}×{HEIGHT} {kind}, {master.stat().st_size / 1e6:.1f} MB")

        def decode(_: int) -> None:
            with Image.open(master) as im:
                im.load()

        def ours(i: int) -> None:
            build_pyramid(master, work / f"ours-{i}", tile_size=TILE, quality=QUALITY)

        decoding = best_of(args.repeat, decode)
        mine = best_of(args.repeat, ours)
        files = sum(1 for _ in (work / "ours-0").rglob("default.jpg"))
        print(f"build_pyramid: {mine:.2f} s, best of {args.repeat} ({files} JPEG files)")
        print(f"  of which decoding the master: {decoding:.2f} s")

        vips = shutil.which("vips")
        if vips is None:
            print("vips dzsave --layout iiif3: skipped, vips is not on PATH")
            return 0

        def theirs(i: int) -> None:
            out = work / f"vips-{i}"
            command = [vips, "dzsave", str(master), str(out), "--layout", "iiif3"]
            command += [
                "--tile-size",
                str(TILE),
                "--overlap",
                "0",
                "--suffix",
                f".jpg[Q={QUALITY}]",
            ]
            subprocess.run(command, check=True, capture_output=True)

        peer = best_of(args.repeat, theirs)
        print(f"vips dzsave --layout iiif3: {peer:.2f} s, best of {args.repeat}")
        print(f"ratio build_pyramid / vips: {mine / peer:.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
