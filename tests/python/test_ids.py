"""OMOP ids survive rebuilds, full refreshes and new batches."""

from __future__ import annotations


def id_maps(database) -> dict[str, dict[str, int]]:
    """Every id-map model of the mapped schema: {model: {source_key: id}}."""
    with database.connect() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables"
                " where table_schema = 'mapped' and table_name like '%%\\_ids' order by 1"
            )
        ]
        return {t: dict(conn.execute(f"select source_key, id from mapped.{t}").fetchall()) for t in tables}


def omop_keys(database) -> dict[str, set[tuple]]:
    with database.connect() as conn:
        return {
            "person": set(conn.execute("select person_source_value, person_id from omop.person").fetchall()),
            "visit_detail": set(
                conn.execute("select visit_detail_id, visit_occurrence_id, person_id from omop.visit_detail").fetchall()
            ),
        }


def test_ids_are_stable_across_rebuilds_and_batches(database, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    database.cli("generate", "synthea", "--patients", "120", "--seed", "11", "--out", str(first))
    database.cli("generate", "synthea", "--patients", "60", "--seed", "12", "--out", str(second))
    database.cli("vocab", "load", "--demo")
    database.cli("load", "synthea", str(first), "--batch-id", "first")
    database.dbt("build")
    maps = id_maps(database)
    assert {"person_ids", "visit_detail_ids", "visit_occurrence_ids"} <= set(maps)
    assert all(maps[name] for name in ("person_ids", "visit_detail_ids")), "id maps are empty"
    keys = omop_keys(database)
    assert len(keys["person"]) == 120

    database.dbt("build")
    assert id_maps(database) == maps
    database.dbt("build", "--full-refresh")
    assert id_maps(database) == maps
    assert omop_keys(database) == keys

    database.cli("load", "synthea", str(second), "--batch-id", "second")
    database.dbt("build")
    grown = id_maps(database)
    for name, old in maps.items():
        new = grown[name]
        assert {k: new.get(k) for k in old} == old, f"{name}: ids of the first batch changed"
        assert len(set(new.values())) == len(new), f"{name}: two keys share an id"
        added = [v for k, v in new.items() if k not in old]
        if old and added:
            assert min(added) > max(old.values()), f"{name}: new ids reuse the old range"
    assert len(grown["person_ids"]) == 180
    assert keys["person"] <= omop_keys(database)["person"]
