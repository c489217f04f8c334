"""lmt_core.reproduce: results reported by a chapter, and the lines a record is made from."""

import json

import numpy as np
import pytest
import torch

from lmt_core import reproduce

ARGS = dict(claim="a claim", value=0.5, assertion="x > 0", passed=True, status="reproduced")


def test_report_returns_the_result_and_writes_nothing_without_a_record(tmp_path, monkeypatch):
    monkeypatch.delenv("LMT_RECORD", raising=False)
    r = reproduce.report("key2024", **ARGS)
    assert r.paper == "key2024" and r.value == 0.5 and r.passed is True
    assert list(tmp_path.iterdir()) == []


def test_report_appends_one_json_line_per_call(tmp_path, monkeypatch):
    path = tmp_path / "rec.jsonl"
    monkeypatch.setenv("LMT_RECORD", str(path))
    reproduce.report("a2024", **ARGS)
    monkeypatch.setenv("LMT_MAX_STEPS", "3")  # a failed check is recorded, not raised, when capped
    reproduce.report(
        "b2024", **{**ARGS, "value": np.float64(2.5), "passed": np.bool_(False), "status": "partly"}
    )
    monkeypatch.delenv("LMT_MAX_STEPS")
    reproduce.report("c2024", **{**ARGS, "value": torch.tensor(3)})
    lines = [json.loads(s) for s in path.read_text().splitlines()]
    assert [d["paper"] for d in lines] == ["a2024", "b2024", "c2024"]
    assert lines[1]["value"] == 2.5 and lines[1]["passed"] is False
    assert lines[2]["value"] == 3 and isinstance(lines[2]["value"], int)


@pytest.mark.parametrize(
    "bad, err",
    [
        (dict(status="done"), ValueError),
        (dict(claim=" "), ValueError),
        (dict(passed="yes"), TypeError),
        (dict(value=[1, 2]), TypeError),
    ],
)
def test_report_rejects_bad_arguments(bad, err):
    with pytest.raises(err):
        reproduce.report("k", **{**ARGS, **bad})


def test_save_headline_only_when_asked(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1])
    monkeypatch.delenv("LMT_RECORD_FIGURE", raising=False)
    assert reproduce.save_headline(fig) is None
    monkeypatch.setenv("LMT_RECORD_FIGURE", str(tmp_path / "sub" / "h.png"))
    out = reproduce.save_headline(fig)
    assert out.exists() and out.read_bytes()[:4] == b"\x89PNG"
    plt.close(fig)


def test_report_is_an_assert(monkeypatch):
    monkeypatch.delenv("LMT_MAX_STEPS", raising=False)
    with pytest.raises(AssertionError, match="key2024: x > 0"):
        reproduce.report("key2024", **{**ARGS, "passed": False})


def test_check_asserts_except_in_a_capped_run(monkeypatch, capsys):
    monkeypatch.delenv("LMT_MAX_STEPS", raising=False)
    assert reproduce.check(torch.tensor(True), "fine") is True
    with pytest.raises(AssertionError, match="loss fell"):
        reproduce.check(False, "loss fell")
    monkeypatch.setenv("LMT_MAX_STEPS", "3")
    assert reproduce.check(np.bool_(False), "loss fell") is False
    assert "not checked (smoke run, LMT_MAX_STEPS=3): loss fell" in capsys.readouterr().out
    with pytest.raises(TypeError):
        reproduce.check(True, 3)


def _fake_repo(root):
    (root / "notebooks").mkdir()
    (root / "lmt_core").mkdir()
    (root / "notebooks" / "01_demo.py").write_text("x = 1\n")
    (root / "lmt_core" / "a.py").write_text("y = 2\n")


def test_code_hash_changes_with_the_chapter_or_the_library(tmp_path):
    _fake_repo(tmp_path)
    h0 = reproduce.code_hash("01_demo", tmp_path)
    assert h0 == reproduce.code_hash("01_demo", tmp_path) and len(h0) == 16
    (tmp_path / "lmt_core" / "a.py").write_text("y = 3\n")
    h1 = reproduce.code_hash("01_demo", tmp_path)
    (tmp_path / "notebooks" / "01_demo.py").write_text("x = 2\n")
    h2 = reproduce.code_hash("01_demo", tmp_path)
    assert len({h0, h1, h2}) == 3
    # prose is not code: a Markdown cell changes nothing
    (tmp_path / "notebooks" / "01_demo.py").write_text("x = 2\n# %% [markdown]\n# Prose.\n")
    assert reproduce.code_hash("01_demo", tmp_path) == h2


def test_code_cells_drop_markdown_cells_only():
    script = "# header\n# %%\nx = 1\n# %% [markdown]\n# words\n# %% tags=['a']\ny = 2\n"
    assert reproduce.code_cells(script) == "# header\n# %%\nx = 1\n# %% tags=['a']\ny = 2\n"


def test_find_and_show_a_record(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _fake_repo(tmp_path)
    monkeypatch.chdir(tmp_path / "notebooks")
    assert reproduce.find_record("01_demo") is None
    assert reproduce.show_record("01_demo") is None
    rec = {
        "chapter": "01_demo",
        "commit": "abcdef1234567",
        "code_hash": reproduce.code_hash("01_demo", tmp_path),
        "date": "2026-12-06T07:00:00+00:00",
        "machine": "a CPU, 2 cores",
        "wall_seconds": 300,
        "results": [{"status": "reproduced"}, {"status": "partly"}],
    }
    (tmp_path / "reproductions").mkdir()
    (tmp_path / "reproductions" / "01_demo.json").write_text(json.dumps(rec))
    fig, ax = plt.subplots()
    fig.savefig(tmp_path / "reproductions" / "01_demo.png")
    plt.close(fig)
    found, figure, root = reproduce.find_record("01_demo")
    assert found == rec and figure.name == "01_demo.png" and root == tmp_path.resolve()
    assert reproduce.show_record("01_demo") == rec
    caption = reproduce.record_caption(rec, stale=False)
    assert "abcdef1234" in caption and "1 reproduced, 1 partly" in caption
    assert (
        "2026-12-06" in caption and "300 s" in caption and "before the last change" not in caption
    )
    assert "before the last change" in reproduce.record_caption(rec, stale=True)
    with pytest.raises(ValueError):
        reproduce.find_record("")
