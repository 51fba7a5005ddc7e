"""The chunked raster engine gives the in-memory result: the same JSON, byte-identical rasters,
on Dask's threaded scheduler and on a real 2-worker ``distributed.LocalCluster``."""

from __future__ import annotations

import pytest
from distributed import LocalCluster

import scenarios
from layers.store import read_features
from scenarios.chunked import Chunked, chunk_side, close_cluster_clients
from scenarios.compute import compute
from scenarios.engine import InMemory
from tests.helpers import run_context
from tests.scenarios.test_compute import TABLE, spec, world

PROVINCE = ("PV99", "Provincie Proef")
PRESET = "pbl-2023-bedrijventerreinen-40"
CRITERIA = [
    {
        "name": "nabij",
        "type": "proximity",
        "weight": 1,
        "max_distance_m": 300,
        "layers": ["bedrijventerreinen"],
    },
    {
        "name": "ver",
        "type": "distance_from",
        "weight": 2,
        "max_distance_m": 500,
        "layers": ["woon"],
    },
]


def same(a, b) -> None:
    assert a.result.as_json() == b.result.as_json()
    assert {k: v[0] for k, v in a.rasters.items()} == {k: v[0] for k, v in b.rasters.items()}
    for name, layer in a.layers.items():
        other = b.layers[name]
        assert layer.frame.equals(other.frame), name
        assert [g.wkb for g in layer.geometries] == [g.wkb for g in other.geometries], name


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"allocation": {"cell_size_m": 20, "criteria": CRITERIA}},
        # no criteria: every cell equally suitable, so the ranking is all ties (broken by cell)
        {
            "regions": {"Samen": ["GM0001", "GM0002"]},
            "allocation": {"cell_size_m": 50, "unit": "region", "criteria": []},
        },
    ],
    ids=["toy", "two-criteria-20m", "ties-per-region"],
)
def test_the_toy_world_chunked_is_the_in_memory_result(changes):
    memory = compute(spec(**changes), world(), TABLE, province=PROVINCE, engine=InMemory())
    chunked = compute(spec(**changes), world(), TABLE, province=PROVINCE, engine=Chunked())
    same(memory, chunked)
    assert memory.result.allocation.allocated_cells > 0


def test_chunk_side_and_bad_settings():
    assert chunk_side(4_194_304) == 2048 and chunk_side(300_000) == 512
    with pytest.raises(ValueError, match="at least 65536"):
        Chunked(chunk_cells=60_000)
    with pytest.raises(ValueError, match="not an address"):
        Chunked(scheduler="localhost")


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        yield local
        close_cluster_clients()  # before the scheduler stops: no client left reconnecting


def stored(demo_db, run) -> tuple[dict, dict, dict]:
    """(JSON without the run's own part, raster bytes, allocatie features) of a stored run."""
    result = run.result.as_json()
    result.pop("run")
    with demo_db.engine.connect() as conn:
        rasters = {n: scenarios.get_run_raster(conn, run.id, n) for n in scenarios.RASTERS}
        layer = read_features(conn, run.output_layers["allocatie"])
    features = {
        "wkb": [g.wkb for g in layer.geometries],
        "rows": layer.properties.drop(columns=["run_id"]).to_dict(orient="records"),
    }
    return result, rasters, features


def utrecht(cell_size: float, **allocation) -> dict:
    preset = scenarios.load_preset(PRESET).as_dict()
    preset["allocation"] |= {"cell_size_m": cell_size, **allocation}
    return preset


#: Chunks of 256 × 256 cells: 4 × 5 chunks of the 50 m grid (989 × 1146), halos up to 101 cells.
SMALL_CHUNKS = 256 * 256


def test_the_utrecht_preset_is_the_same_in_memory_threaded_and_on_a_local_cluster(demo_db, cluster):
    preset = utrecht(50)
    runs = {
        "memory": scenarios.run_scenario(demo_db.engine, preset, run_context(engine=InMemory())),
        "threaded": scenarios.run_scenario(
            demo_db.engine, preset, run_context(engine=Chunked(chunk_cells=SMALL_CHUNKS))
        ),
        "cluster": scenarios.run_scenario(
            demo_db.engine,
            preset,
            run_context(
                engine=Chunked(chunk_cells=SMALL_CHUNKS, scheduler=cluster.scheduler_address)
            ),
        ),
    }
    memory = stored(demo_db, runs["memory"])
    assert memory[0]["allocation"]["grid"]["rows"] > 2 * 256
    assert memory[0]["allocation"]["allocated_cells"] > 1000
    for name in ("threaded", "cluster"):
        other = stored(demo_db, runs[name])
        assert other[0] == memory[0], name
        assert other[1] == memory[1], name
        assert other[2] == memory[2], name


def test_ties_across_chunks_are_broken_the_same_way(demo_db):
    preset = utrecht(50, criteria=[])  # every free cell equally suitable
    memory = scenarios.run_scenario(demo_db.engine, preset, run_context(engine=InMemory()))
    chunked = scenarios.run_scenario(
        demo_db.engine, preset, run_context(engine=Chunked(chunk_cells=SMALL_CHUNKS))
    )
    assert stored(demo_db, memory) == stored(demo_db, chunked)
