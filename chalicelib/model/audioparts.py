"""Parallel audio (pure): the audio cut into parts of whole segments, each encoded by its own task,
joined at AAC frame boundaries into one stream that decodes as if it had been encoded at once.

The AAC encoder turns each 1024-sample frame into one packet whose MDCT window spans that frame
and the next; a decoder rebuilds every frame by overlapping two packets. A part therefore starts
its encoder ``PREROLL_FRAMES`` early (the psychoacoustic model, the bit reservoir and the rate
control settle; the packet before its first one exists) and runs ``POSTROLL_FRAMES`` past its end (the encoder looks
one frame ahead), and keeps exactly the packets of its segments: those a whole-track encode would
put there, at the same places (the first packet at or after each boundary). Every part sees the
same decoded, resampled samples (the same filter chain over the same input from its start), so the
packets on both sides of a seam encode the same signal.

Timelines, in 48 kHz samples: *pts* is the output's (0: its first sample; the priming packet at
-1024), *tfdt* the segments' (the priming packet at 0: pts + 1024).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.model.facts import Record

AUDIO_RATE = 48_000
AAC_FRAME = 1024
# Long enough that a part is worth a task (its pre-roll is a sixth of it), short enough that a long
# source's audio spreads over the fleet: 10 min → 10 parts of about a minute.
AUDIO_PART_SECONDS = 60.0
# ~10 s. ffmpeg's AAC rate control has a long memory (a cold encoder spends its first seconds
# below its later quality, and one a minute into a steady sound is better still): on a 300 s tone
# and programme-like sound in minute-long parts, a 3 s pre-roll left the worst window at a seam
# 6.3 and 1.5 dB below the 5th percentile elsewhere; 10 s 0.6 dB on the tone (the whole-track
# encode's own value there) and 5 dB above on the programme; 20 s the same (bench/audio.py at each
# pre-roll, 2026-12-02; docs/BENCHMARKS.md §13 has the production one).
PREROLL_FRAMES = 480
POSTROLL_FRAMES = 4
# A split no later than this before the shortest track ends: every part but the last is whole.
END_MARGIN = 2.0


@dataclass(frozen=True)
class AudioPart(Record):
    """Segments [first_segment, end_segment) of every audio track (end None: to the audio's end)."""

    index: int
    first_segment: int
    end_segment: int | None
    start: int  # tfdt of its first packet (the previous part's end)
    end: int | None  # tfdt where the next part starts

    @property
    def input_start(self) -> int:
        """The first sample (pts) the encoder is given: ``PREROLL_FRAMES`` before the first packet's window."""
        return max(0, self.start - AAC_FRAME - PREROLL_FRAMES * AAC_FRAME) if self.index else 0

    @property
    def input_end(self) -> int | None:
        """The sample (pts) the encoder's input stops before (None: the audio's end)."""
        return None if self.end is None else self.end + POSTROLL_FRAMES * AAC_FRAME

    @property
    def segments(self) -> int | None:
        """How many segments the part makes (None: the last part, as many as the audio lasts)."""
        return None if self.end_segment is None else self.end_segment - self.first_segment

    def cut_times(self, segment_times: Sequence[float]) -> list[float]:
        """The segment muxer's cut times (seconds): every boundary at which one of the part's files
        starts (with a pre-roll, its first file is the pre-roll; with an end, its last file the
        post-roll), relative to its encoder's first packet and half a frame early (packets sit on
        the frame grid), so that each cut is the first packet at or after the boundary, where a
        whole-track encode cuts."""
        end = len(segment_times) if self.end_segment is None else self.end_segment + 1
        boundaries = segment_times[self.first_segment if self.index else 1:end]
        first_packet = self.input_start  # tfdt of the encoder's first (priming) packet
        return [(frame_cut(b) - first_packet - AAC_FRAME // 2) / AUDIO_RATE for b in boundaries]

    def kept(self, files: Sequence[str]) -> list[str]:
        """The part's own segment files among those the muxer has closed, in order (not the
        pre-roll's, not the post-roll's)."""
        own = list(files[1:] if self.index else files)
        return own if self.segments is None else own[:self.segments]


def frame_cut(boundary: float) -> int:
    """tfdt of the first AAC packet at or after ``boundary`` seconds: where the segment muxer cuts
    (it compares in microseconds, as the boundary is written in the argv)."""
    micros = round(boundary * 1_000_000)
    return -(-micros * AUDIO_RATE // (1_000_000 * AAC_FRAME)) * AAC_FRAME


def split_segments(segment_times: Sequence[float], audio_end: float,
                   part_seconds: float = AUDIO_PART_SECONDS) -> tuple[int, ...]:
    """The segment numbers at which parts after the first start: about every ``part_seconds``, none
    within ``END_MARGIN`` of ``audio_end`` (the shortest track's end) and no last part shorter than
    half a part (it joins the one before)."""
    if part_seconds <= 0:
        return ()
    splits: list[int] = []
    last = segment_times[0] if segment_times else 0.0
    for number, time in enumerate(segment_times):
        if number == 0 or time - last < part_seconds:
            continue
        if time > audio_end - max(END_MARGIN, part_seconds / 2):
            break
        splits.append(number)
        last = time
    return tuple(splits)


def audio_parts(segment_times: Sequence[float], splits: Sequence[int]) -> tuple[AudioPart, ...]:
    """The parts the splits make (no splits: one part, the whole audio)."""
    firsts = [0, *splits]
    ends: list[int | None] = [*splits, None]
    return tuple(AudioPart(index, first, end, frame_cut(segment_times[first]) if index else 0,
                           None if end is None else frame_cut(segment_times[end]))
                 for index, (first, end) in enumerate(zip(firsts, ends)))
