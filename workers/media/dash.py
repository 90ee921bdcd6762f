"""The DASH manifest (CMAF profile, SegmentTemplate + SegmentTimeline) of a complete stream index."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import groupby

from workers.media.stream import INIT, Index, Rendition

NAMESPACE = "urn:mpeg:dash:schema:mpd:2011"
PROFILES = "urn:mpeg:dash:profile:cmaf:2019,urn:mpeg:dash:profile:isoff-live:2011"
CHANNELS_SCHEME = "urn:mpeg:dash:23003:3:audio_channel_configuration:2011"


def _duration(seconds: float) -> str:
    return f"PT{seconds:.3f}S"


def _template(parent: ET.Element, rendition: Rendition) -> None:
    """One timeline for the whole adaptation set: every rendition in it shares the boundaries."""
    template = ET.SubElement(parent, "SegmentTemplate", timescale=str(rendition.timescale),
                             presentationTimeOffset=str(rendition.offset), startNumber="0",
                             initialization=f"$RepresentationID$/{INIT}", media="$RepresentationID$/$Number$.m4s")
    timeline = ET.SubElement(template, "SegmentTimeline")
    at = rendition.start
    for position, (duration, run) in enumerate(groupby(rendition.durations)):
        repeat = sum(1 for _ in run) - 1
        attributes = {"t": str(at)} if position == 0 else {}
        attributes["d"] = str(duration)
        if repeat:
            attributes["r"] = str(repeat)
        ET.SubElement(timeline, "S", attributes)
        at += duration * (repeat + 1)


def manifest(index: Index) -> str:
    """A static MPD: one video adaptation set per codec, one audio set; minBufferTime one segment."""
    video = index.video
    length = video[0].total_seconds if video else 0.0
    mpd = ET.Element("MPD", xmlns=NAMESPACE, profiles=PROFILES, type="static",
                     mediaPresentationDuration=_duration(length), minBufferTime=_duration(index.target_duration))
    period = ET.SubElement(mpd, "Period", id="0", start="PT0S")
    codecs = sorted({r.codec for r in video}, key=lambda c: (c != "h264", c))
    for set_id, codec in enumerate(codecs):
        members = [r for r in video if r.codec == codec]
        top = members[0]
        adaptation = ET.SubElement(period, "AdaptationSet", id=str(set_id), contentType="video",
                                   mimeType="video/mp4", segmentAlignment="true", startWithSAP="1",
                                   maxWidth=str(max(r.width for r in members)),
                                   maxHeight=str(max(r.height for r in members)),
                                   frameRate=str(top.frame_rate), par=_par(top))
        _template(adaptation, top)
        for r in members:
            ET.SubElement(adaptation, "Representation", id=r.id, bandwidth=str(r.peak_bitrate), codecs=r.codecs,
                          width=str(r.width), height=str(r.height), sar="1:1")
    if index.audio is not None:
        audio = index.audio
        adaptation = ET.SubElement(period, "AdaptationSet", id=str(len(codecs)), contentType="audio",
                                   mimeType="audio/mp4", segmentAlignment="true", startWithSAP="1", lang="und")
        _template(adaptation, audio)
        representation = ET.SubElement(adaptation, "Representation", id=audio.id, bandwidth=str(audio.peak_bitrate),
                                       codecs=audio.codecs, audioSamplingRate=str(audio.timescale))
        ET.SubElement(representation, "AudioChannelConfiguration", schemeIdUri=CHANNELS_SCHEME, value="2")
    ET.indent(mpd)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(mpd, encoding="unicode") + "\n"


def _par(rendition: Rendition) -> str:
    from math import gcd

    divisor = gcd(rendition.width, rendition.height) or 1
    return f"{rendition.width // divisor}:{rendition.height // divisor}"
