"""HDR sources' filters, encoder flags and stream signalling (pure: no ffmpeg binary)."""
from __future__ import annotations

import dataclasses
from typing import Any

import m3u8
import pytest
from mpegdash.parser import MPEGDASHParser

from chalicelib.model.facts import MasteringDisplay, ProbeResult
from chalicelib.model.ladder import Rung
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import Plan, plan_chunks
from tests.support.probes import make_probe
from workers.media import colour, dash, hls
from workers.media.encode import codec_args, ladder_argv, ladder_filter
from workers.media.stream import collect

P3_1000 = MasteringDisplay(red=(0.68, 0.32), green=(0.265, 0.69), blue=(0.15, 0.06), white=(0.3127, 0.329),
                           max_luminance=1000.0, min_luminance=0.0001)
ALL = EncodeOptions(codecs=("h264", "hevc", "av1"), max_height=720)
KEEP = EncodeOptions(codecs=("h264", "hevc", "av1"), max_height=720, hdr="keep")
SDR_FILTER = "scale={w}:{h}:flags=bicubic:out_range=tv,setsar=1,format=yuv420p"


@pytest.fixture(autouse=True)
def fake_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FFMPEG_BINARY", "/opt/ffmpeg")


def source(transfer: str = "", **video: Any) -> ProbeResult:
    probe = make_probe(tuple(i / 30 for i in range(120)), size=(1280, 720))
    assert probe.video is not None
    tags = {"color_transfer": transfer, "color_primaries": "bt2020" if transfer else "",
            "color_matrix": "bt2020nc" if transfer else ""}
    return dataclasses.replace(probe, video=dataclasses.replace(probe.video, **{**tags, **video}))


def pq_plan(options: EncodeOptions = KEEP) -> Plan:
    return plan_chunks(source("smpte2084", mastering=P3_1000, max_cll=1000, max_fall=400), options)


def rung_of(plan: Plan, codec: str) -> Rung:
    return next(r for r in plan.rungs if r.codec == codec)


def flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def branches(graph: str) -> dict[str, str]:
    """A filter graph's chains by the label they start from ("" for the decoded input's)."""
    chains = {}
    for chain in graph.split(";"):
        label = chain[1:chain.index("]")] if chain.startswith("[") else ""
        chains["" if label.startswith("0:") else label] = chain
    return chains


def test_an_sdr_source_is_encoded_exactly_as_before() -> None:
    plan = plan_chunks(source(), KEEP)
    assert plan.colour is None
    graph = ladder_filter(plan.chunks[0], plan, plan.rungs)
    assert graph == "[0:0]setpts=PTS-STARTPTS,split={}{};{}".format(
        len(plan.rungs), "".join(f"[s{i}]" for i in range(len(plan.rungs))),
        ";".join(f"[s{i}]{SDR_FILTER.format(w=r.width, h=r.height)}[v{i}]" for i, r in enumerate(plan.rungs)))
    argv = ladder_argv("/in.mp4", plan.chunks[0], plan, KEEP, "/out")
    assert not {"-color_primaries", "-color_trc", "-colorspace", "-color_range", "-dolbyvision"} & set(argv)
    assert "yuv420p10le" not in argv
    assert {argv[i + 1] for i, a in enumerate(argv) if a == "-profile:v"} == {"high"}  # x264's only
    hevc = codec_args(rung_of(plan, "hevc"), plan, KEEP)
    assert flag(hevc, "-x265-params") == "keyint=60:min-keyint=60:scenecut=0:open-gop=0:log-level=error"
    assert flag(codec_args(rung_of(plan, "av1"), plan, KEEP), "-svtav1-params") == "keyint=60:scd=0"


@pytest.mark.parametrize("transfer", ["smpte2084", "arib-std-b67"])
def test_tonemap_turns_every_rung_into_bt709_sdr(transfer: str) -> None:
    plan = plan_chunks(source(transfer), ALL)
    assert plan.colour is not None
    chain = colour.tonemap_filter(plan.colour, 1280, 720).split(",")
    assert chain == [
        f"zscale=w=1280:h=720:filter=bicubic:tin={transfer}:pin=bt2020:min=bt2020nc:rin=tv:t=linear:p=bt709:m=bt709:"
        "r=tv:npl=100",
        "format=gbrpf32le",
        "tonemap=tonemap=mobius:desat=0:peak=10",  # no stated peak: 1000 cd/m²
        "zscale=t=bt709:m=bt709:r=tv",
        "format=yuv420p",
    ]
    for rung in plan.rungs:
        args = codec_args(rung, plan, ALL)
        assert flag(args, "-pix_fmt") == "yuv420p"
        assert [flag(args, f) for f in ("-color_primaries", "-color_trc", "-colorspace", "-color_range")] == [
            "bt709", "bt709", "bt709", "tv"]
        assert "hdr10" not in " ".join(args) and "mastering" not in " ".join(args)
    assert flag(codec_args(rung_of(plan, "hevc"), plan, ALL), "-dolbyvision") == "0"
    assert "-dolbyvision" not in codec_args(rung_of(plan, "h264"), plan, ALL)


def test_the_picture_is_tone_mapped_once_and_every_sdr_rung_cut_from_it() -> None:
    plan = plan_chunks(source("smpte2084"), ALL)
    graph = branches(ladder_filter(plan.chunks[0], plan, plan.rungs))
    strip = ",".join(f"sidedata=mode=delete:type={kind}" for kind in colour.STRIPPED_SIDE_DATA)
    assert graph[""] == f"[0:0]setpts=PTS-STARTPTS,{strip},split=1[sdr]"
    assert graph["sdr"].count("tonemap=tonemap=") == 1 and "zscale=w=1280:h=720:" in graph["sdr"]
    assert graph["sdr"].endswith(f",split={len(plan.rungs)}" + "".join(f"[t{i}]" for i in range(len(plan.rungs))))
    for i, rung in enumerate(plan.rungs):  # each as an SDR source's rung is made
        assert graph[f"t{i}"] == f"[t{i}]{SDR_FILTER.format(w=rung.width, h=rung.height)}[v{i}]"


def test_the_images_see_the_tone_mapped_picture() -> None:
    plan = plan_chunks(source("arib-std-b67"), ALL)
    graph = colour.ladder_graph(plan.colour, plan.rungs, (plan.width, plan.height),  # type: ignore[arg-type]
                                lambda r: "null", "img")
    assert branches(graph)["sdr"].endswith("[img]")


def test_the_tone_map_peak_is_the_sources_max_cll() -> None:
    plan = plan_chunks(source("smpte2084", max_cll=4000, mastering=P3_1000), ALL)
    assert plan.colour is not None
    assert "tonemap=tonemap=mobius:desat=0:peak=40" in colour.tonemap_filter(plan.colour, 640, 360)
    full = plan_chunks(source("smpte2084", color_range="pc"), ALL)
    assert full.colour is not None and ":rin=pc:" in colour.tonemap_filter(full.colour, 640, 360)


def test_keep_leaves_h264_sdr_and_makes_hevc_hdr10() -> None:
    plan = pq_plan()
    h264 = codec_args(rung_of(plan, "h264"), plan, KEEP)
    assert flag(h264, "-pix_fmt") == "yuv420p" and flag(h264, "-color_trc") == "bt709"
    graph = branches(ladder_filter(plan.chunks[0], plan, plan.rungs))
    kept = [i for i, r in enumerate(plan.rungs) if r.codec != "h264"]
    assert graph[""].endswith(f"split={len(kept) + 1}" + "".join(f"[h{i}]" for i in kept) + "[sdr]")
    assert {f"t{i}" for i, r in enumerate(plan.rungs) if r.codec == "h264"} <= set(graph)
    for i in kept:
        rung = plan.rungs[i]
        assert graph[f"h{i}"] == (f"[h{i}]scale={rung.width}:{rung.height}:flags=bicubic:out_range=tv,setsar=1,"
                                  f"format=yuv420p10le[v{i}]")
    rung = rung_of(plan, "hevc")
    args = codec_args(rung, plan, KEEP)
    assert (flag(args, "-pix_fmt"), flag(args, "-profile:v"), flag(args, "-tag:v")) == ("yuv420p10le", "main10", "hvc1")
    assert [flag(args, f) for f in ("-color_primaries", "-color_trc", "-colorspace", "-color_range")] == [
        "bt2020", "smpte2084", "bt2020nc", "tv"]
    params = flag(args, "-x265-params").split(":")
    assert params[:5] == ["keyint=60", "min-keyint=60", "scenecut=0", "open-gop=0", "log-level=error"]
    assert params[5:] == ["hdr10=1", "hdr10-opt=1",
                          "master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)",
                          "max-cll=1000,400"]


def test_keep_makes_av1_10_bit_with_its_metadata() -> None:
    plan = pq_plan()
    args = codec_args(rung_of(plan, "av1"), plan, KEEP)
    assert flag(args, "-pix_fmt") == "yuv420p10le" and flag(args, "-color_trc") == "smpte2084"
    assert flag(args, "-svtav1-params").split(":") == [
        "keyint=60", "scd=0",
        "mastering-display=G(0.26500,0.69000)B(0.15000,0.06000)R(0.68000,0.32000)WP(0.31270,0.32900)"
        "L(1000.0000,0.0001)",
        "content-light=1000,400"]


def test_keep_hlg_carries_its_transfer_and_no_hdr10_metadata() -> None:
    plan = plan_chunks(source("arib-std-b67", mastering=P3_1000, max_cll=1000), KEEP)
    hevc = codec_args(rung_of(plan, "hevc"), plan, KEEP)
    assert flag(hevc, "-color_trc") == "arib-std-b67" and flag(hevc, "-pix_fmt") == "yuv420p10le"
    assert "hdr10" not in flag(hevc, "-x265-params") and "master-display" not in flag(hevc, "-x265-params")
    assert flag(codec_args(rung_of(plan, "av1"), plan, KEEP), "-svtav1-params") == "keyint=60:scd=0"


def test_incomplete_mastering_metadata_is_not_written() -> None:
    plan = plan_chunks(source("smpte2084", mastering=MasteringDisplay(max_luminance=1000.0)), KEEP)
    params = flag(codec_args(rung_of(plan, "hevc"), plan, KEEP), "-x265-params")
    assert params.endswith(":hdr10=1:hdr10-opt=1")  # no master-display, no max-cll
    assert "mastering-display" not in flag(codec_args(rung_of(plan, "av1"), plan, KEEP), "-svtav1-params")
    assert plan.colour is not None
    assert "peak=10" in colour.tonemap_filter(plan.colour, 640, 360)  # the display's peak still counts


def test_every_chunk_gets_the_same_flags() -> None:
    plan = pq_plan(dataclasses.replace(KEEP, chunk_seconds=1.0))
    assert len(plan.chunks) > 1
    per_chunk = [[a for a in ladder_argv("/in.mp4", c, plan, KEEP, "/out") if "master" in a or "hdr10" in a]
                 for c in plan.chunks]
    assert per_chunk[0] and all(flags == per_chunk[0] for flags in per_chunk)


def records(plan: Plan, codecs: dict[str, str]) -> dict[str, dict[str, Any]]:
    parts = {}
    for chunk in plan.chunks:
        count = len(plan.segment_range(chunk))
        tracks = {r.id: {"codecs": codecs[r.codec], "init": "x", "durations": [30_000] * count,
                         "sizes": [5000] * count, "frames": [30] * count} for r in plan.rungs}
        parts[f"v{chunk.index:05d}"] = {"state": "done", "tracks": tracks}
    return parts


CODECS = {"h264": "avc1.64001F", "hevc": "hvc1.2.4.L93.90", "av1": "av01.0.05M.10"}


def test_hls_says_each_variants_range() -> None:
    plan = pq_plan(dataclasses.replace(KEEP, max_height=360))
    master = m3u8.loads(hls.master_playlist(collect(plan, records(plan, CODECS))))
    ranges = {p.uri.split("/")[0]: p.stream_info.video_range for p in master.playlists}
    assert ranges == {r.id: "SDR" if r.codec == "h264" else "PQ" for r in plan.rungs}
    sdr = plan_chunks(source(), dataclasses.replace(KEEP, max_height=360))
    master = m3u8.loads(hls.master_playlist(collect(sdr, records(sdr, CODECS))))
    assert {p.stream_info.video_range for p in master.playlists} == {"SDR"}


def test_dash_marks_only_the_hdr_sets() -> None:
    plan = pq_plan(dataclasses.replace(KEEP, max_height=360))
    mpd = MPEGDASHParser.parse(dash.manifest(collect(plan, records(plan, CODECS))))
    found = {}
    for adaptation in mpd.periods[0].adaptation_sets:
        codec = adaptation.representations[0].id.split("-")[0]
        found[codec] = {p.scheme_id_uri.rsplit(":", 1)[1]: p.value for p in adaptation.essential_properties or []}
    hdr10 = {"ColourPrimaries": "9", "TransferCharacteristics": "16", "MatrixCoefficients": "9"}
    assert found == {"h264": {}, "hevc": hdr10, "av1": hdr10}
    hlg = plan_chunks(source("arib-std-b67"), dataclasses.replace(KEEP, max_height=360))
    text = dash.manifest(collect(hlg, records(hlg, CODECS)))
    assert text.count('TransferCharacteristics" value="18"') == 2
    tonemapped = plan_chunks(source("arib-std-b67"), dataclasses.replace(ALL, max_height=360))
    assert "EssentialProperty" not in dash.manifest(collect(tonemapped, records(tonemapped, CODECS)))
