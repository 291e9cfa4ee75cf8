"""`python -m matching solve|generate`: formats, errors naming records, the schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

import matching
from matching import generate_instance
from matching._instance import _NEED_FIELDS, _SETTINGS_FIELDS, _VOL_FIELDS, parse_instance
from matching.cli import main

EXAMPLE = {
    "settings": {"max_km": 25},
    "needs": [
        {
            "id": "r1",
            "lat": 40.68,
            "lon": -73.94,
            "category": "groceries",
            "urgency": "normal",
            "waited_hours": 0,
            "exclude": ["v3"],
            "needs_vetted": False,
        },
        {"id": "r2", "lat": 40.70, "lon": -73.90, "category": "pets"},
    ],
    "volunteers": [
        {
            "id": "v1",
            "lat": 40.69,
            "lon": -73.95,
            "categories": ["groceries", "rides"],
            "radius_km": 5,
            "capacity": 1,
            "vetted": True,
        }
    ],
}


def write(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "instance.json"
    path.write_text(json.dumps(doc))
    return path


def test_solve_writes_the_result_format(tmp_path):
    out = tmp_path / "result.json"
    assert main(["solve", str(write(tmp_path, EXAMPLE)), "-o", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result) == {"matches", "unmatched", "stats"}
    assert result["matches"] == [
        {
            "need": "r1",
            "volunteer": "v1",
            "km": pytest.approx(1.3952, abs=1e-3),
            "why": result["matches"][0]["why"],
        }
    ]
    assert result["unmatched"][0]["need"] == "r2"
    assert result["unmatched"][0]["reason"] == "no_category"
    stats = result["stats"]
    assert {"matched", "total_km", "served_weight", "proven_optimal", "seconds"} <= set(stats)
    assert stats["matched"] == 1 and stats["proven_optimal"] is True


def test_solve_to_stdout_as_a_process(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "matching", "solve", str(write(tmp_path, EXAMPLE))],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout)["stats"]["matched"] == 1


# The process as ``python -m matching`` runs it, reporting what numpy started with.
_RUN_AS_MAIN = """
import os, runpy, sys
sys.argv = ["matching", "solve", sys.argv[1], "-o", os.devnull]
import matching
assert "numpy" not in sys.modules, "import matching imported numpy"
try:
    runpy.run_module("matching", run_name="__main__", alter_sys=True)
except SystemExit as exc:
    assert not exc.code, exc.code
print(os.environ.get("OPENBLAS_NUM_THREADS"))
"""


@pytest.mark.parametrize(("preset", "seen"), [(None, "1"), ("2", "2")])
def test_the_command_line_starts_numpy_on_one_blas_thread_unless_told(tmp_path, preset, seen):
    # Starting OpenBLAS's thread per core cost ~0.1 s CPU of every run; the engine does
    # no matrix products. A setting of the caller's own is left as it is.
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if preset is not None:
        env["OPENBLAS_NUM_THREADS"] = preset
    done = subprocess.run(
        [sys.executable, "-c", _RUN_AS_MAIN, str(write(tmp_path, EXAMPLE))],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == seen


def test_every_public_name_is_exported_and_resolves_to_its_module():
    # The package imports its names when first asked for: the table it imports them by
    # lists exactly what it exports, and each is its own module's object.
    assert sorted(matching._HOME) == sorted(matching.__all__)
    for name in matching.__all__:
        home = sys.modules.get(f"matching{matching._HOME[name]}") or __import__(
            f"matching{matching._HOME[name]}", fromlist=["_"]
        )
        assert getattr(matching, name) is getattr(home, name), name
    assert set(matching.__all__) <= set(dir(matching))
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        matching.nothing_here  # noqa: B018


def bad(doc_change):
    doc = json.loads(json.dumps(EXAMPLE))
    doc_change(doc)
    return doc


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (bad(lambda d: d["needs"][1].pop("lat")), "need #1 (id 'r2'): missing field 'lat'"),
        (
            bad(lambda d: d["needs"][0].update(lat=123)),
            "need #0 (id 'r1'): lat 123 is out of range",
        ),
        (bad(lambda d: d["needs"][1].update(id="r1")), "need #1 (id 'r1'): duplicate id"),
        (
            bad(lambda d: d["volunteers"][0].update(radius_km=-2)),
            "volunteer #0 (id 'v1'): radius_km -2",
        ),
        (
            bad(lambda d: d["volunteers"][0].update(capacity=1.5)),
            "volunteer #0 (id 'v1'): capacity",
        ),
        (bad(lambda d: d["needs"][0].update(urgency="now")), "need #0 (id 'r1'): urgency"),
        (bad(lambda d: d["needs"][0].update(colour="red")), "need #0 (id 'r1'): unknown field"),
        (bad(lambda d: d["needs"][0].update(lat="40")), "need #0 (id 'r1'): lat must be"),
        (bad(lambda d: d["settings"].update(max_km=-1)), "settings: max_km"),
        (bad(lambda d: d.pop("volunteers")), "'volunteers' must be a list"),
    ],
)
def test_invalid_instances_exit_nonzero_naming_the_record(tmp_path, capsys, doc, message):
    assert main(["solve", str(write(tmp_path, doc))]) == 1
    err = capsys.readouterr().err
    assert message in err


def test_unreadable_instance(tmp_path, capsys):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    assert main(["solve", str(path)]) == 1
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.parametrize("city", ["metro", "country"])
def test_generate_then_solve(tmp_path, city):
    inst = tmp_path / "gen.json"
    out = tmp_path / "out.json"
    args = ["generate", "--needs", "60", "--volunteers", "50", "--city", city, "--seed", "2"]
    assert main([*args, "-o", str(inst)]) == 0
    doc = json.loads(inst.read_text())
    assert len(doc["needs"]) == 60 and len(doc["volunteers"]) == 50
    assert main([*args, "-o", str(tmp_path / "again.json")]) == 0
    assert (tmp_path / "again.json").read_text() == inst.read_text()
    assert main(["solve", str(inst), "-o", str(out)]) == 0
    result = json.loads(out.read_text())
    assert len(result["matches"]) + len(result["unmatched"]) == 60


def test_schema_ships_and_matches_the_parser():
    schema = json.loads(resources.files("matching").joinpath("instance.schema.json").read_text())
    props = schema["properties"]
    assert set(props["needs"]["items"]["properties"]) == _NEED_FIELDS
    assert set(props["volunteers"]["items"]["properties"]) == _VOL_FIELDS
    assert set(props["settings"]["properties"]) == _SETTINGS_FIELDS
    assert set(props["needs"]["items"]["required"]) == {"id", "lat", "lon", "category"}


def test_decoded_records_share_one_string_per_category_and_urgency():
    # JSON decoding makes a string per occurrence; a million records kept them all.
    doc = json.loads(
        json.dumps(
            {
                "needs": [
                    {"id": f"r{k}", "lat": 0, "lon": 0, "category": "groceries", "urgency": "soon"}
                    for k in range(3)
                ],
                "volunteers": [
                    {"id": f"v{k}", "lat": 0, "lon": 0, "categories": ["groceries"], "radius_km": 1}
                    for k in range(3)
                ],
            }
        )
    )
    assert doc["needs"][0]["category"] is not doc["needs"][1]["category"]
    needs, vols, _ = parse_instance(doc)
    assert len({id(n.category) for n in needs}) == 1 and len({id(n.urgency) for n in needs}) == 1
    assert len({id(v.categories[0]) for v in vols}) == 1
    assert [n.category for n in needs] == ["groceries"] * 3


@pytest.mark.parametrize("encoding", [{"separators": (",", ":")}, {"ensure_ascii": False}, {}])
def test_written_in_pieces_as_written_at_once(monkeypatch, encoding):
    """The CLI's output, slice by slice, is exactly ``json.dumps`` of the whole."""
    from matching import cli

    monkeypatch.setattr(cli, "_SLICE", 3)
    doc = generate_instance(10, 7, "metro", seed=1)
    doc["settings"] = {"max_km": 10, "note": ["é", {"a": []}]}
    doc["empty"] = []
    for value in (doc, [1, 2], "x", {"only": [1] * 7}, {}):
        assert "".join(cli._pieces(value, **encoding)) == json.dumps(value, **encoding)


def test_the_command_line_writes_what_solve_returns(tmp_path):
    """Written from columns (no Pair objects), the result is `result_to_dict` of `solve`
    on the same records, but for the seconds it took."""
    from matching import result_to_dict, solve

    doc = generate_instance(300, 200, "metro", 4)
    doc["needs"][5] |= {"exclude": ["v3"], "needs_vetted": True}
    inst, out = tmp_path / "in.json", tmp_path / "out.json"
    inst.write_text(json.dumps(doc))
    assert main(["solve", str(inst), "-o", str(out)]) == 0
    written = json.loads(out.read_text())
    expected = json.loads(json.dumps(result_to_dict(solve(*parse_instance(doc)))))
    assert written["matches"] == expected["matches"] and written["matches"]
    assert written["unmatched"] == expected["unmatched"]
    timing = {k for k in expected["stats"] if k.endswith("seconds")}
    assert {k: v for k, v in written["stats"].items() if k not in timing} == {
        k: v for k, v in expected["stats"].items() if k not in timing
    }
