"""Bench: the audio encoded in parallel parts against one whole-track encode, on the same source.

For a test tone and a programme-like mix (44.1 kHz, resampled like most camera and phone audio):
the plan's parts are encoded one after the other with the audio task's own functions (each timed:
wall and CPU of its ffmpeg), joined as a player appends the segments, decoded, and compared with
what the encoder was given around every seam and elsewhere (SNR per AAC frame, the peak of the
difference), and in total length with the whole-track encode's. The fleet runs the parts at once:
the audio's critical path is its longest part, against the whole track's one task.
"""
from __future__ import annotations

import resource
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chalicelib.media.probe import probe
from chalicelib.model.audioparts import AAC_FRAME, AUDIO_RATE, PREROLL_FRAMES
from chalicelib.model.kinds import audio_part
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import plan_chunks
from tests.support.media import encode_audio_part, join_track
from tests.support.seams import PROGRAMME, TONE, decoded, make_clip, measure, reference, seam_samples

# (seconds, part seconds) per profile: the full run uses the production part length.
LENGTHS = {"full": (300.0, 60.0), "smoke": (24.0, 6.0)}
SIGNALS = {"programme": PROGRAMME, "tone 1 kHz": TONE}
HEADING = "## 13. Parallel audio: the seams (issue 15)"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _encode(source: Path, part_seconds: float, work: Path) -> dict[str, Any]:
    """Every audio part of the plan (``part_seconds``: 0 = the whole track) encoded and joined."""
    probed = probe(str(source))
    plan = plan_chunks(probed, EncodeOptions(), audio_part_seconds=part_seconds)
    package = work / "package"
    parts, durations = [], []
    for part in plan.audio_parts:
        wall, cpu = time.perf_counter(), _children_cpu()
        record = encode_audio_part(str(source), probed, plan, part, work / f"part{part.index}", package)
        parts.append({"part": audio_part(part.index), "segments": len(record["tracks"]["audio"]["durations"]),
                      "wall": round(time.perf_counter() - wall, 3), "cpu": round(_children_cpu() - cpu, 3)})
        durations += record["tracks"]["audio"]["durations"]
    joined = join_track(package / "audio", len(durations), work / "joined.mp4")
    return {"plan": plan, "probe": probed, "parts": parts, "durations": durations,
            "pcm": decoded(joined, priming=True)}


def run(profile_name: str, work: Path, log: Callable[[str], None] = print) -> dict[str, Any]:
    seconds, part_seconds = LENGTHS[profile_name]
    rows = []
    for name, signal in SIGNALS.items():
        folder = work / "audio" / name.replace(" ", "-")
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        log(f"  audio: {name}, {seconds:g} s, parts of {part_seconds:g} s")
        clip = make_clip(folder / "clip.mp4", signal, seconds)
        parts = _encode(clip, part_seconds, folder / "parts")
        whole = _encode(clip, 0.0, folder / "whole")
        ref = reference(clip, parts["probe"], folder / "reference.wav")
        seams = seam_samples(parts["plan"])
        rows.append({
            "signal": name, "seconds": seconds, "part_seconds": part_seconds, "parts": parts["parts"],
            "whole": whole["parts"][0], "seams": [s / AUDIO_RATE for s in seams],
            "same_segments": parts["durations"] == whole["durations"],
            "samples": {"parts": int(parts["pcm"].shape[1]), "whole": int(whole["pcm"].shape[1]),
                        "source": int(ref.shape[1])},
            "joined": measure(parts["pcm"], ref, seams).to_dict(),
            "whole_at_seams": measure(whole["pcm"], ref, seams).to_dict(),
        })
    return {"rows": rows, "preroll_frames": PREROLL_FRAMES, "preroll_seconds": PREROLL_FRAMES * AAC_FRAME / AUDIO_RATE}


def targets(result: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The issue-15 targets of the parallel audio: length sample-exact, seams no worse than
    elsewhere (SNR, within 1 dB of the 5th percentile), no click on the test tone."""
    rows = (result or {}).get("rows", [])
    if not rows:
        return [{"target": "(issue 15) parallel audio: length sample-exact, seams no worse than elsewhere",
                 "measured": "–", "met": None}]
    exact = all(r["same_segments"] and r["samples"]["parts"] == r["samples"]["whole"] for r in rows)
    worst = min(r["joined"]["seam_snr_db"] - r["joined"]["elsewhere_p5_snr_db"] for r in rows)
    tone = [r for r in rows if r["signal"].startswith("tone")]
    clicks = [r["joined"]["seam_peak"] / r["joined"]["elsewhere_peak"] for r in tone if r["joined"]["elsewhere_peak"]]
    return [
        {"target": "(issue 15) parallel audio: the joined stream as long as a whole-track encode, to the sample",
         "measured": "; ".join(f"{r['signal']}: {r['samples']['parts']} / {r['samples']['whole']} samples"
                               for r in rows),
         "met": exact},
        {"target": "(issue 15) parallel audio: every seam's SNR no worse than elsewhere (≥ the 5th percentile − 1 dB)",
         "measured": f"worst seam {worst:+.1f} dB against the 5th percentile", "met": worst >= -1.0},
        {"target": "(issue 15) parallel audio: no click on a test tone (peak of the difference at a seam "
                   "≤ 1.1× elsewhere)",
         "measured": ", ".join(f"{c:.2f}×" for c in clicks) or "–", "met": bool(clicks) and max(clicks) <= 1.1},
    ]


def section(result: dict[str, Any]) -> list[str]:
    """The report's section on the parallel audio (markdown lines)."""
    lines = [HEADING, "",
             f"`python -m bench --only audio`: each source's audio encoded as the plan's parts (pre-roll "
             f"{result['preroll_frames']} AAC frames = {result['preroll_seconds']:.2f} s, post-roll 4 frames, "
             "the packets of each part's segments kept) and as one whole-track task, with the audio task's own "
             "functions; the parts joined as a player appends segments and decoded. SNR per 1024-sample window "
             "against what the encoder was given (the source through the same alignment, resampler and "
             "downmix), at a seam = any window within 2048 samples of one; peak = the largest |decoded − source| "
             "(a click would stand out of it on the tone). The first and last second are left out.", "",
             "| signal | parts | segments identical to the whole-track encode | samples: parts / whole / source "
             "| seam SNR (worst) | elsewhere SNR: p5 / median | whole-track encode at the seams / median "
             "| peak at seams / elsewhere | longest part (s wall) | whole track (s wall) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in result["rows"]:
        joined, whole = row["joined"], row["whole_at_seams"]
        longest = max(p["wall"] for p in row["parts"])
        lines.append(
            f"| {row['signal']}, {row['seconds']:g} s | {len(row['parts'])} of {row['part_seconds']:g} s "
            f"| {'yes' if row['same_segments'] else '**no**'} "
            f"| {row['samples']['parts']} / {row['samples']['whole']} / {row['samples']['source']} "
            f"| {joined['seam_snr_db']:.1f} dB "
            f"| {joined['elsewhere_p5_snr_db']:.1f} / {joined['elsewhere_snr_db']:.1f} dB "
            f"| {whole['seam_snr_db']:.1f} / {whole['elsewhere_snr_db']:.1f} dB "
            f"| {joined['seam_peak']:.4f} / {joined['elsewhere_peak']:.4f} "
            f"| {longest:.2f} | {row['whole']['wall']:.2f} |")
    worse = [r["signal"] for r in result["rows"]
             if r["joined"]["seam_snr_db"] < r["joined"]["elsewhere_p5_snr_db"] - 1.0]
    verdict = ("the seams themselves are no worse than the parts' other windows (the p5 column)." if not worse else
               f"at the seams of {', '.join(worse)} the SNR is below the parts' 5th percentile elsewhere: each "
               f"part's encoder starts {result['preroll_seconds']:.0f} s before its seam and has not reached the "
               "quality it settles at later (a steady tone shows it most).")
    lines += ["", "Every part's encoder follows its own rate-control path (ffmpeg's AAC encoder adapts over "
              "tens of seconds): away from the seams its SNR differs from the whole-track encode's by a few dB "
              f"either way, which the median columns show; {verdict}", ""]
    return lines
