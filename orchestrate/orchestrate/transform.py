"""The dbt project (transform/) as Dagster assets, through dagster-dbt: one asset per model,
downstream of the tables its sources read, so lineage runs from `callrail/calls` to
`analytics/lead_funnel`; each dbt test is an asset check.

The Meltano project stays the truth: the dbt project, its profile and the warehouse
connection are the `dbt-postgres` utility's settings (meltano.yml), read with `meltano config
--unsafe print --format=env`, and a source's table is the asset of the extractor that loads
it, whatever its load schema (`callrail` source → tap-callrail's tables).
"""

# No `from __future__ import annotations`: Dagster reads the context's type at definition time.

import contextlib
import fcntl
import json
import logging
import os
import shutil
import sys
import typing as t
from collections.abc import Iterator, Mapping
from pathlib import Path

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from orchestrate.meltano_project import MeltanoError, MeltanoProject
from orchestrate.pipelines import Extractor

UTILITY = "dbt-postgres"
GROUP = "transform"
DEFINITIONS = Path("target", "dagster")
"""Where the definitions parse the project, inside its dbt target folder."""
LOGGER = logging.getLogger(__name__)


class WarehouseTranslator(DagsterDbtTranslator):
    """Asset keys as the warehouse names its tables: `<schema>/<table>`. A source is the
    table its extractor loads (source `callrail` → tap-callrail's load schema)."""

    def __init__(self, load_schemas: Mapping[str, str]) -> None:
        super().__init__(DagsterDbtTranslatorSettings(enable_asset_checks=True))
        self.load_schemas = load_schemas

    def get_asset_key(self, dbt_resource_props: Mapping[str, t.Any]) -> dg.AssetKey:
        name = dbt_resource_props["name"]
        if dbt_resource_props["resource_type"] == "source":
            source = dbt_resource_props["source_name"]
            return dg.AssetKey([self.load_schemas.get(source, source), name])
        return dg.AssetKey([dbt_resource_props["schema"], name])

    def get_group_name(self, dbt_resource_props: Mapping[str, t.Any]) -> str | None:
        return None if dbt_resource_props["resource_type"] == "source" else GROUP


def load_schemas(extractors: Mapping[str, Extractor]) -> dict[str, str]:
    """dbt source name → the schema its extractor loads into (`callrail` → `callrail`)."""
    return {
        name.removeprefix("tap-").replace("-", "_"): e.load_schema for name, e in extractors.items()
    }


def dbt_vars(schemas: Mapping[str, str]) -> str:
    """The project's schema vars (dbt_project.yml) for the extractors' load schemas."""
    pairs = ", ".join(f"{source}_schema: {schema}" for source, schema in sorted(schemas.items()))
    return "{" + pairs + "}"


def dbt_project(project: MeltanoProject) -> tuple[DbtProject, dict[str, str]] | None:
    """The utility's dbt project and environment; None (with a warning) where meltano.yml
    declares no dbt-postgres utility or its project folder is missing."""
    try:
        env = project.plugin_env(UTILITY)
    except MeltanoError as problem:
        LOGGER.warning("No dbt assets: %s", problem)
        return None
    folder = Path(env.get("DBT_PROJECT_DIR", project.folder / "transform"))
    if not (folder / "dbt_project.yml").exists():
        LOGGER.warning("No dbt assets: %s has no dbt_project.yml", folder)
        return None
    profiles = env.get("DBT_PROFILES_DIR", str(folder / "profiles"))
    return DbtProject(project_dir=folder, profiles_dir=profiles, target_path=DEFINITIONS), env


def dbt_resource(dbt: DbtProject) -> DbtCliResource:
    """dbt from this environment (dagster-dbt depends on dbt-core), else the PATH's."""
    beside = Path(sys.executable).with_name("dbt")
    executable = str(beside) if beside.exists() else shutil.which("dbt") or "dbt"
    return DbtCliResource(
        project_dir=dbt, profiles_dir=str(dbt.profiles_dir), dbt_executable=executable
    )


def manifest_of(dbt: DbtProject, env: Mapping[str, str]) -> dict[str, t.Any]:
    """The project's manifest, parsed now: the models and tests as they are on disk.

    Each Dagster run worker loads the definitions in a process of its own, so two may parse
    at once: the parse and the read hold a lock, and the folder is Dagster's alone (dbt run
    by Meltano writes `target/`), else one reads the manifest while the other writes it."""
    folder = dbt.project_dir / dbt.target_path
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as lock, _environment(env):
        fcntl.flock(lock, fcntl.LOCK_EX)
        dbt_resource(dbt).cli(["parse", "--quiet"], target_path=dbt.target_path).wait()
        return json.loads(dbt.manifest_path.read_bytes())


def transform_assets(
    project: MeltanoProject, extractors: Mapping[str, Extractor]
) -> tuple[list[dg.AssetsDefinition], dict[str, t.Any]]:
    """The dbt assets and the `dbt` resource they need (none without a dbt project)."""
    found = dbt_project(project)
    if found is None:
        return [], {}
    dbt, env = found
    schemas = load_schemas(extractors)
    translator = WarehouseTranslator(schemas)

    @dbt_assets(
        manifest=manifest_of(dbt, env),
        project=dbt,
        name="build_transform",
        dagster_dbt_translator=translator,
    )
    def transform(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> t.Iterator[t.Any]:
        with _environment(env):
            yield from dbt.cli(["build", "--vars", dbt_vars(schemas)], context=context).stream()

    return [transform], {"dbt": dbt_resource(dbt)}


@contextlib.contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    """The utility's DBT_* settings in os.environ while dbt runs: DbtCliResource hands the
    process environment to dbt and takes no other (each Dagster step is its own process)."""
    settings = {name: value for name, value in env.items() if name.startswith("DBT_")}
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
