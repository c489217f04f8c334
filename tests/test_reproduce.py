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
    reproduce.report(
        "b2024", **{**ARGS, "value": np.float64(2.5), "passed": np.bool_(False), "status": "partly"}
    )
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
