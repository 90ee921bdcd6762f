"""HDR sources through the chunk encodes: tone-mapped SDR renditions keep the picture's colours
(today's plain format conversion does not), kept HDR renditions stay 10-bit PQ/HLG with their
metadata, and the stream says which is which.

The source is a grid of flat BT.709 patches (greys, primaries, secondaries, skin, sky) converted to
PQ or HLG with SDR white at 100 cd/m² (the tone mapper's nominal peak), so the original patches
are the reference a tone-mapped output is measured against.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import m3u8
import numpy as np
import pytest

from chalicelib.media.probe import probe
from chalicelib.model.colour import Colour
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import plan_chunks
from tests.support.media import ffmpeg_cmd, join_track, transcode
from tests.support.streams import check_package
from workers.media.encode import encode_ladder
from workers.media.images import ChunkImages, made_images

WIDTH, HEIGHT, COLUMNS = 320, 180, 8
PATCH_W, PATCH_H = WIDTH // COLUMNS, HEIGHT // 2
INSET = 10  # pixels of each patch's border left out of its measurement (chroma bleeds across edges)
PATCHES = [  # 8-bit BT.709 RGB
    (20, 20, 20), (64, 64, 64), (128, 128, 128), (192, 192, 192), (230, 230, 230), (180, 40, 40), (40, 160, 40),
    (40, 40, 180), (200, 190, 50), (50, 180, 190), (180, 50, 170), (224, 172, 138), (230, 120, 30),
    (110, 150, 210), (100, 20, 20), (110, 110, 40),
]
# The P3-D65 1000 cd/m² grading display HDR10 is usually mastered on, and its light levels.
MASTER_DISPLAY = "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)"
MAX_CLL = "1000,400"
# Mean error of a patch (0-255 per channel, averaged over the patches): the tone-mapped rendition's
# must stay under it, the plain conversion's (what framefleet did before) must not.
ERROR_BOUND = 12.0
OPTIONS = EncodeOptions(x264_preset="ultrafast", crf=16, max_height=HEIGHT, chunk_seconds=1.0, segment_seconds=1.0)
KEEP = dataclasses.replace(OPTIONS, codecs=("h264", "hevc", "av1"), hdr="keep")


def _source(folder: Path, transfer: str) -> Path:
    """Two seconds of the patch grid as 10-bit HEVC in ``transfer`` (smpte2084 with HDR10 metadata,
    or arib-std-b67), tagged like a camera or a grading tool tags it."""
    grid = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    for i, rgb in enumerate(PATCHES):
        row, column = divmod(i, COLUMNS)
        grid[row * PATCH_H:(row + 1) * PATCH_H, column * PATCH_W:(column + 1) * PATCH_W] = rgb
    frame = folder / "grid.rgb"
    grid.tofile(frame)
    hdr10 = f":hdr10=1:master-display={MASTER_DISPLAY}:max-cll={MAX_CLL}" if transfer == "smpte2084" else ""
    path = folder / f"{transfer}.mp4"
    proc = ffmpeg_cmd(
        "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{WIDTH}x{HEIGHT}", "-framerate", "25",
        "-stream_loop", "-1", "-i", str(frame), "-t", "2",
        "-vf", "zscale=tin=bt709:pin=bt709:min=gbr:rin=pc:t=linear:p=bt709:m=gbr:r=pc:npl=100,format=gbrpf32le,"
               f"zscale=p=bt2020:t={transfer}:m=bt2020nc:r=tv:npl=100,format=yuv420p10le",
        "-c:v", "libx265", "-preset", "ultrafast", "-crf", "8",
        "-x265-params", f"log-level=error:keyint=25:colorprim=bt2020:transfer={transfer}:colormatrix=bt2020nc{hdr10}",
        "-color_primaries", "bt2020", "-color_trc", transfer, "-colorspace", "bt2020nc", "-tag:v", "hvc1", str(path))
    assert proc.returncode == 0, proc.stderr
    return path


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hdr-sources")
    return {"pq": _source(folder, "smpte2084"), "hlg": _source(folder, "arib-std-b67")}


def _patch_errors(path: Path, frames: tuple[int, ...] = (10, 40), *, full_range: bool = False) -> list[float]:
    """Mean absolute RGB difference (0-255) of each patch's inside from its BT.709 value, read as
    BT.709 (limited range, or full for a JPEG), averaged over ``frames`` (one in each chunk)."""
    import av
    from av.video.reformatter import ColorRange, Colorspace

    pictures = []
    with av.open(str(path)) as container:
        for number, frame in enumerate(container.decode(video=0)):
            if number in frames:
                rgb = frame.reformat(format="rgb24", src_colorspace=Colorspace.ITU709,
                                     src_color_range=ColorRange.JPEG if full_range else ColorRange.MPEG)
                pictures.append(rgb.to_ndarray().astype(float))
    assert len(pictures) == len(frames), f"{path.name}: fewer than {max(frames) + 1} frames"
    picture = np.mean(pictures, axis=0)
    errors = []
    for i, rgb in enumerate(PATCHES):
        row, column = divmod(i, COLUMNS)
        inside = picture[row * PATCH_H + INSET:(row + 1) * PATCH_H - INSET,
                         column * PATCH_W + INSET:(column + 1) * PATCH_W - INSET]
        errors.append(float(np.abs(inside.reshape(-1, 3).mean(axis=0) - np.array(rgb)).mean()))
    return errors


def _plain_conversion(source: Path, folder: Path) -> Path:
    """The first chunk encoded as if the source were SDR: what framefleet did before (scale +
    format=yuv420p, the colour untouched); its top rung's fragmented MP4."""
    plan = dataclasses.replace(plan_chunks(probe(str(source)), OPTIONS), colour=None)
    return Path(encode_ladder(str(source), plan.chunks[0], plan, OPTIONS, str(folder), timeout=120)[plan.rungs[0].id])


@pytest.mark.parametrize("kind", ["pq", "hlg"])
def test_tone_mapped_sdr_keeps_the_colours(kind: str, sources: dict[str, Path], tmp_path: Path,
                                           record_property: Any) -> None:
    source = sources[kind]
    result = transcode(str(source), OPTIONS, tmp_path)
    assert result.plan.colour is not None and result.plan.colour.range == kind.upper()
    assert len(result.plan.chunks) == 2  # the tone mapping is the same on both sides of the seam
    video = probe(str(result.output)).video  # the MP4 the job publishes (verify_output passed: High, yuv420p)
    assert video is not None
    assert (video.pix_fmt, video.color_primaries, video.color_transfer, video.color_matrix, video.color_range) == (
        "yuv420p", "bt709", "bt709", "bt709", "tv")
    assert video.mastering is None and video.max_cll == 0
    mapped = _patch_errors(result.output)
    (tmp_path / "plain").mkdir()
    plain = _patch_errors(_plain_conversion(source, tmp_path / "plain"), frames=(10, 20))
    record_property(f"{kind}_tonemapped_mean_error", round(float(np.mean(mapped)), 2))
    record_property(f"{kind}_tonemapped_worst_patch", round(max(mapped), 2))
    record_property(f"{kind}_plain_mean_error", round(float(np.mean(plain)), 2))
    print(f"{kind}: tone-mapped mean {np.mean(mapped):.2f} (worst patch {max(mapped):.2f}), "
          f"plain conversion mean {np.mean(plain):.2f} (worst {max(plain):.2f})")
    assert np.mean(mapped) < ERROR_BOUND, mapped
    assert np.mean(plain) > ERROR_BOUND and np.mean(plain) > 3 * np.mean(mapped), plain
    dark = [e for rgb, e in zip(PATCHES, mapped) if max(rgb) <= 128]  # below the tone curve's knee: untouched
    assert max(dark) < 4.0, dark


def test_posters_and_storyboards_are_tone_mapped_too(sources: dict[str, Path], tmp_path: Path) -> None:
    plan = plan_chunks(probe(str(sources["pq"])), OPTIONS)
    images = ChunkImages.of(plan, plan.chunks[0])
    assert images.poster is not None and images.tiles
    encode_ladder(str(sources["pq"]), plan.chunks[0], plan, OPTIONS, str(tmp_path), timeout=120, images=images)
    made = made_images(images, str(tmp_path))
    poster = _patch_errors(tmp_path / made.candidates[0].file, frames=(0,), full_range=True)
    assert np.mean(poster) < ERROR_BOUND, poster
    assert made.sheets  # the storyboard came from the same tone-mapped branch


def _track(result: Any, rung_id: str, folder: Path) -> Path:
    rendition = next(r for r in result.index.video if r.id == rung_id)
    return join_track(result.package / rung_id, len(rendition.durations), folder / f"{rung_id}.mp4")


def test_keep_hdr10_in_hevc_and_av1(sources: dict[str, Path], tmp_path: Path) -> None:
    result = transcode(str(sources["pq"]), KEEP, tmp_path)
    check_package(result.package, 50, None, codecs_expected=3)
    colour = result.plan.colour
    assert isinstance(colour, Colour) and colour.keep and colour.max_cll == 1000 and colour.max_fall == 400
    for rung, inits in result.chunk_inits.items():
        assert len(inits) == 2 and len(set(inits)) == 1, f"{rung}: the chunks' init segments differ"
    source_mastering = probe(str(sources["pq"])).video.mastering  # type: ignore[union-attr]
    assert source_mastering is not None and source_mastering.max_luminance == 1000.0
    ids = {r.codec: r.id for r in result.plan.rungs}
    for codec in ("hevc", "av1"):
        video = probe(str(_track(result, ids[codec], tmp_path))).video
        assert video is not None
        assert (video.pix_fmt, video.bit_depth) == ("yuv420p10le", 10), codec
        assert (video.color_primaries, video.color_transfer, video.color_matrix, video.color_range) == (
            "bt2020", "smpte2084", "bt2020nc", "tv"), codec
        assert (video.max_cll, video.max_fall) == (1000, 400), codec
        assert video.mastering is not None, f"{codec}: no mastering display metadata"
        assert video.mastering.max_luminance == pytest.approx(1000.0)
        for ours, theirs in zip((video.mastering.red, video.mastering.green, video.mastering.blue,
                                 video.mastering.white), (source_mastering.red, source_mastering.green,
                                                          source_mastering.blue, source_mastering.white)):
            assert ours == pytest.approx(theirs, abs=1e-4), codec
    h264 = probe(str(_track(result, ids["h264"], tmp_path))).video
    assert h264 is not None and (h264.pix_fmt, h264.color_transfer, h264.mastering) == ("yuv420p", "bt709", None)
    codecs = {r.codec: r.codecs for r in result.index.video}
    assert codecs["hevc"].startswith("hvc1.2.4.") and codecs["av1"].startswith("av01.0.") and codecs["av1"].endswith(
        ".10")
    master = m3u8.load(str(result.package / "master.m3u8"))
    ranges = {p.uri.split("/")[0]: p.stream_info.video_range for p in master.playlists}
    assert ranges == {ids["h264"]: "SDR", ids["hevc"]: "PQ", ids["av1"]: "PQ"}
    mpd = (result.package / "manifest.mpd").read_text()
    assert mpd.count('<EssentialProperty schemeIdUri="urn:mpeg:mpegB:cicp:TransferCharacteristics" value="16" />') == 2


def test_keep_hlg_in_hevc(sources: dict[str, Path], tmp_path: Path) -> None:
    options = dataclasses.replace(KEEP, codecs=("h264", "hevc"))
    result = transcode(str(sources["hlg"]), options, tmp_path)
    hevc = next(r for r in result.plan.rungs if r.codec == "hevc")
    video = probe(str(_track(result, hevc.id, tmp_path))).video
    assert video is not None
    assert (video.pix_fmt, video.color_primaries, video.color_transfer, video.color_matrix) == (
        "yuv420p10le", "bt2020", "arib-std-b67", "bt2020nc")
    assert video.mastering is None and video.max_cll == 0
    master = (result.package / "master.m3u8").read_text()
    assert master.count("VIDEO-RANGE=HLG") == 1 and master.count("VIDEO-RANGE=SDR") == 1
    assert result.metadata["pix_fmt"] == "yuv420p" and result.metadata["profile"] == "High"
