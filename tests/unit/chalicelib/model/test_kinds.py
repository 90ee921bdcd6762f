"""The task protocol's vocabulary."""
from __future__ import annotations

import json

import pytest

from chalicelib.model.kinds import (
    FINAL_STATES,
    JobState,
    PartName,
    Role,
    TaskKind,
    chunk_part,
    describe,
    part_of,
    task_payload,
)


def test_part_names_sort_in_chunk_order() -> None:
    names = [chunk_part(i) for i in (0, 9, 10, 99999)]
    assert names == sorted(names) and names[0] == "v00000"


def test_enums_serialise_and_compare_as_their_values() -> None:
    payload = task_payload("j", TaskKind.CHUNK, 3)
    assert json.dumps(payload) == '{"job_id": "j", "kind": "chunk", "index": 3}'
    assert f"t_{JobState.DONE}" == "t_done" and "done" in FINAL_STATES and JobState("failed") in FINAL_STATES


@pytest.mark.parametrize("payload,part,words", [
    (task_payload("j", TaskKind.CHUNK, 7), "v00007", "chunk 7"),
    (task_payload("j", TaskKind.AUDIO), PartName.AUDIO, "audio encoding"),
    (task_payload("j", TaskKind.AUDIO, 2), "a00002", "audio part 2"),
    (task_payload("j", TaskKind.ASSEMBLE), PartName.ASSEMBLY, "assembly"),
])
def test_payloads_name_their_part(payload: dict, part: str, words: str) -> None:
    assert part_of(payload) == part and describe(payload) == words


def test_audio_parts_are_told_from_chunks_and_the_assembly() -> None:
    from chalicelib.model.kinds import audio_part, chunk_part, is_audio_part

    assert [audio_part(i) for i in range(3)] == ["audio", "a00001", "a00002"]
    assert all(is_audio_part(audio_part(i)) for i in (0, 1, 99999))
    assert not any(is_audio_part(name) for name in (chunk_part(1), PartName.ASSEMBLY, "a0001x", "alpha0"))


def test_every_role_drains_one_queue_and_every_kind_has_one() -> None:
    from chalicelib.model.kinds import KIND_QUEUES, QueueName

    assert {r.queue for r in Role if r is not Role.NOTIFIER} == set(QueueName)
    assert set(KIND_QUEUES) == set(TaskKind)
    with pytest.raises(ValueError):
        part_of({"job_id": "j", "kind": "transcode"})
