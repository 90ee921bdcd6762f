"""Build the ffmpeg Lambda layer zip: ``bin/ffmpeg`` from the pinned imageio-ffmpeg wheel.

    python ffmpeg_layer/build.py [--out ffmpeg_layer/dist/ffmpeg-layer.zip]

The binary is the one the workers run (imageio-ffmpeg's static ffmpeg, linux x86_64), taken
from the installed pinned wheel when it is the Linux build, else from the wheel itself
(``pip download``, answered from pip's cache when present); either way its bytes are checked
against the wheel's RECORD hash. The zip is reproducible: sorted entries, fixed timestamps
(SOURCE_DATE_EPOCH, default 1980-01-01) and permissions, so the same pin gives the same bytes.
Lambda unpacks a layer under /opt, so the binary is /opt/bin/ffmpeg (set FFMPEG_BINARY to it).
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import os
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

IMAGEIO_FFMPEG_VERSION = "0.8.1"   # = pyproject.toml's pin
WHEEL_PLATFORM = "manylinux2014_x86_64"
BINARY_PREFIX = "imageio_ffmpeg/binaries/ffmpeg-linux-x86_64-"
LAMBDA_UNZIPPED_LIMIT = 262_144_000  # bytes: Lambda's "250 MB" (250 MiB) for a function and all its layers
DEFAULT_OUT = Path(__file__).resolve().parent / "dist" / "ffmpeg-layer.zip"
ZIP_EPOCH = 315532800  # 1980-01-01, the earliest time a zip entry can hold


@dataclass(frozen=True)
class LayerInfo:
    """What was built."""

    path: Path
    sha256: str
    zipped_bytes: int
    unzipped_bytes: int
    ffmpeg_version: str


def _record_hash(entry: str) -> str:
    """A RECORD hash ``sha256=<urlsafe b64>`` as a hex digest."""
    algo, _, digest = entry.partition("=")
    if algo != "sha256":
        raise SystemExit(f"unexpected RECORD hash {algo!r}")
    return base64.urlsafe_b64decode(digest + "=" * (-len(digest) % 4)).hex()


def binary_from_installed() -> tuple[bytes, str] | None:
    """The Linux ffmpeg of the installed imageio-ffmpeg, if it is the pinned Linux wheel."""
    try:
        dist = metadata.distribution("imageio-ffmpeg")
    except metadata.PackageNotFoundError:
        return None
    if dist.version != IMAGEIO_FFMPEG_VERSION:
        return None
    for file in dist.files or []:
        if str(file).startswith(BINARY_PREFIX) and file.hash is not None:
            data = Path(dist.locate_file(file)).read_bytes()
            if hashlib.sha256(data).hexdigest() != _record_hash(f"{file.hash.mode}={file.hash.value}"):
                raise SystemExit(f"{file}: does not match the wheel's RECORD hash")
            return data, Path(str(file)).name
    return None


def binary_from_wheel(cache: Path) -> tuple[bytes, str]:
    """The Linux ffmpeg out of the pinned manylinux wheel (downloaded once into ``cache``)."""
    cache.mkdir(parents=True, exist_ok=True)
    wheels = sorted(cache.glob(f"imageio_ffmpeg-{IMAGEIO_FFMPEG_VERSION}-*{WHEEL_PLATFORM}*.whl"))
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                        "--platform", WHEEL_PLATFORM, "--python-version", "3.11", "--dest", str(cache),
                        f"imageio-ffmpeg=={IMAGEIO_FFMPEG_VERSION}"], check=True)
        wheels = sorted(cache.glob(f"imageio_ffmpeg-{IMAGEIO_FFMPEG_VERSION}-*.whl"))
    with zipfile.ZipFile(wheels[0]) as wheel:
        record_name = next(n for n in wheel.namelist() if n.endswith(".dist-info/RECORD"))
        for line in wheel.read(record_name).decode().splitlines():
            name, digest, _size = line.rsplit(",", 2)
            if name.startswith(BINARY_PREFIX):
                data = wheel.read(name)
                if hashlib.sha256(data).hexdigest() != _record_hash(digest):
                    raise SystemExit(f"{name}: does not match the wheel's RECORD hash")
                return data, Path(name).name
    raise SystemExit(f"{wheels[0].name} has no {BINARY_PREFIX}* binary")


def _entry(name: str, mode: int, epoch: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=time.gmtime(max(epoch, ZIP_EPOCH))[:6])
    info.create_system = 3  # unix: keep the permission bits
    info.external_attr = mode << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def write_layer(out: Path, files: dict[str, tuple[bytes, int]], epoch: int = ZIP_EPOCH) -> None:
    """Write ``{name: (data, mode)}`` as a reproducible zip (sorted, fixed times and modes)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    dirs = sorted({str(Path(name).parent) + "/" for name in files if "/" in name})
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name in dirs:
            zf.writestr(_entry(name, 0o40755, epoch), b"")
        for name in sorted(files):
            data, mode = files[name]
            zf.writestr(_entry(name, 0o100000 | mode, epoch), data)
    tmp.replace(out)


def unzipped_size(path: Path) -> int:
    with zipfile.ZipFile(path) as zf:
        return sum(info.file_size for info in zf.infolist())


def build(out: Path = DEFAULT_OUT, binary: bytes | None = None, binary_name: str = "ffmpeg",
          cache: Path | None = None) -> LayerInfo:
    """Build the layer at ``out`` and check it against Lambda's unzipped size limit."""
    if binary is None:
        found = binary_from_installed() or binary_from_wheel(cache or out.parent / "wheels")
        binary, binary_name = found
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", ZIP_EPOCH))
    notice = (f"bin/ffmpeg is {binary_name} from the imageio-ffmpeg {IMAGEIO_FFMPEG_VERSION} wheel "
              f"({WHEEL_PLATFORM}), sha256 {hashlib.sha256(binary).hexdigest()}.\n"
              "ffmpeg is free software under the GNU GPL (this static build includes libx264); "
              "its source is at https://ffmpeg.org.\n").encode()
    write_layer(out, {"bin/ffmpeg": (binary, 0o755), "THIRD_PARTY_NOTICES.txt": (notice, 0o644)}, epoch)
    size = unzipped_size(out)
    if size > LAMBDA_UNZIPPED_LIMIT:
        out.unlink()
        raise SystemExit(f"layer unzips to {size} bytes, over Lambda's {LAMBDA_UNZIPPED_LIMIT}")
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    out.with_name(out.name + ".sha256").write_text(f"{digest}  {out.name}\n")
    return LayerInfo(out, digest, out.stat().st_size, size, binary_name.rsplit("-v", 1)[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--cache", type=Path, default=None, help="where to keep the downloaded wheel")
    args = parser.parse_args(argv)
    info = build(args.out, cache=args.cache)
    print(f"{info.path}: ffmpeg {info.ffmpeg_version}, {info.zipped_bytes} bytes zipped, "
          f"{info.unzipped_bytes} unzipped ({100 * info.unzipped_bytes / LAMBDA_UNZIPPED_LIMIT:.0f} % of "
          f"Lambda's limit), sha256 {info.sha256}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
