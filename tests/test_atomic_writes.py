"""Every output is written to a temporary file and renamed: a writer that fails, or is killed with
SIGKILL mid-write, never leaves a truncated file under the output's name."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pandas as pd
import pytest

from conftest import REPO
from model_state_detection.io import atomic_path, write_csv


def partials(directory):
    return sorted(path.name for path in directory.iterdir() if ".partial-" in path.name)


def test_success_renames_into_place_and_leaves_nothing_else(tmp_path):
    target = tmp_path / "sub" / "table.csv"
    write_csv(pd.DataFrame({"a": [1, 2]}), target)
    assert target.read_text() == "a\n1\n2\n"
    assert partials(target.parent) == []


def test_a_failing_writer_leaves_the_previous_file_untouched(tmp_path):
    target = tmp_path / "model.keras"
    target.write_text("finished earlier")
    with pytest.raises(OSError, match="No space left"):
        with atomic_path(target) as temporary:
            temporary.write_text("half of a mo")
            raise OSError(28, "No space left on device")  # what a full disk raises mid-write
    assert target.read_text() == "finished earlier"
    assert partials(tmp_path) == []


WRITER = """
import sys, time
sys.path.insert(0, sys.argv[2])
from model_state_detection.io import atomic_path
with atomic_path(sys.argv[1]) as temporary:
    with open(temporary, "w") as handle:
        handle.write("digit,score\\n1,0.5\\n")
        handle.flush()
        print("writing", flush=True)
        time.sleep(60)
"""


def test_sigkill_mid_write_leaves_no_output_and_the_next_write_clears_the_leftover(tmp_path):
    target = tmp_path / "test_scores.csv"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target), str(REPO / "workflow/scripts")], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout.readline().strip() == "writing"
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=10)
    writer.stdout.close()
    assert not target.exists()  # nothing that could pass for a finished output
    [leftover] = partials(tmp_path)
    assert str(writer.pid) in leftover

    write_csv(pd.DataFrame({"digit": [1], "score": [0.25]}), target)
    assert target.read_text() == "digit,score\n1,0.25\n"
    assert partials(tmp_path) == []  # the dead writer's leftover is gone


def test_a_live_writers_partial_file_is_left_alone(tmp_path):
    # a second writer of the same file (a resumed run while a job of the killed one still runs)
    with subprocess.Popen(["sleep", "30"]) as alive:
        theirs = tmp_path / f".history.partial-{socket.gethostname()}-{alive.pid}.csv"
        theirs.write_text("in progress")
        write_csv(pd.DataFrame({"epoch": [1]}), tmp_path / "history.csv")
        assert theirs.read_text() == "in progress"
        alive.kill()
    assert (tmp_path / "history.csv").read_text() == "epoch\n1\n"


def test_partial_files_of_other_targets_are_left_alone(tmp_path):
    other = tmp_path / f".scores.partial-{socket.gethostname()}-999999999.csv"
    other.write_text("x")
    write_csv(pd.DataFrame({"a": [1]}), tmp_path / "metrics.csv")
    assert other.exists()
