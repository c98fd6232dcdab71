"""The Meltano project, read and run through the `meltano` command as a process.

meltano.yml stays the single source of truth: its jobs and schedules are read with `meltano
job list --format=json` and `meltano schedule list --format=json`, a plugin's resolved
settings with `meltano invoke --dump=config` (a utility's environment with `meltano config
--unsafe print --format=env`), the system database with `meltano config --unsafe print
meltano`, and a job runs as `meltano run <job>`. Meltano
lives in its own virtual environment (it pins its own SQLAlchemy), so it is never imported.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
import shutil
import subprocess
import typing as t
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository, whose meltano.yml is the default project."""


Result = t.TypeVar("Result")


def at_once(*reads: t.Callable[[], Result]) -> list[Result]:
    """Each read's result, the reads run side by side: each is a `meltano` process that
    spends about a second starting, so the definitions load in the time of the slowest
    few rather than of all of them in a row."""
    with ThreadPoolExecutor(max_workers=max(len(reads), 1)) as pool:
        return list(pool.map(lambda read: read(), reads))


class MeltanoError(RuntimeError):
    """A `meltano` command failed; the message is its one-line reason."""


MELTANO_ERROR = re.compile(r"\[error\s*\]\s+meltano\s+(.+)$")


def meltano_reason(stderr: str) -> str:
    """The last error Meltano logged (its closing "Need help fixing this problem?" is no
    reason), else its last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [m.group(1) for m in map(MELTANO_ERROR.search, lines) if m]
    return (errors or lines or ["no output"])[-1]


@dataclasses.dataclass(frozen=True)
class Pipeline:
    """One extractor → loader pair of a job (one Meltano state ID)."""

    extractor: str
    loader: str

    @property
    def state_id_stem(self) -> str:
        """The state ID without the environment and suffix: `tap-x-to-target-y`."""
        return f"{self.extractor}-to-{self.loader}"

    def state_id(self, environment: str, suffix: str | None = None) -> str:
        """Meltano's state ID: `{environment}:{extractor}-to-{loader}(:{suffix})`."""
        return f"{environment}:{self.state_id_stem}" + (f":{suffix}" if suffix else "")


@dataclasses.dataclass(frozen=True)
class Job:
    """A Meltano job: its name and what it runs."""

    name: str
    tasks: tuple[str, ...]

    @property
    def pipelines(self) -> list[Pipeline]:
        """Each extractor → loader pair the job's tasks run, in order."""
        found = []
        for task in self.tasks:
            words = task.split()
            found += [
                Pipeline(words[i], words[i + 1])
                for i in range(len(words) - 1)
                if words[i].startswith("tap-") and words[i + 1].startswith("target-")
            ]
        return found


@dataclasses.dataclass(frozen=True)
class Schedule:
    """A Meltano schedule of a job: its cron and the environment it adds."""

    name: str
    job: str
    cron: str
    env: dict[str, str]

    @property
    def full_refresh(self) -> bool:
        return self.env.get("MELTANO_RUN_FULL_REFRESH", "").lower() in ("1", "true", "yes")


@dataclasses.dataclass(frozen=True)
class RunOutcome:
    """How a `meltano run` ended, with the last lines it wrote to stderr."""

    returncode: int
    stderr_tail: list[str]


class MeltanoProject:
    """A Meltano project and the `meltano` command that runs it."""

    def __init__(
        self, folder: Path, executable: str, environment: str | None, env: dict[str, str]
    ) -> None:
        self.folder = folder
        self.executable = executable
        self.environment = environment
        self.env = env
        self._read: dict[tuple[str, ...], t.Any] = {}

    @classmethod
    def from_environment(cls) -> MeltanoProject:
        """The project as the environment says: `MELTANO_PROJECT_ROOT` (else this
        repository), `MELTANO` (else `meltano` on the PATH, else the repository's
        .venv-meltano) and `MELTANO_ENVIRONMENT`."""
        folder = Path(os.environ.get("MELTANO_PROJECT_ROOT") or ROOT)
        local = ROOT / ".venv-meltano" / "bin" / "meltano"
        executable = os.environ.get("MELTANO") or shutil.which("meltano") or str(local)
        return cls(folder, executable, os.environ.get("MELTANO_ENVIRONMENT"), dict(os.environ))

    def command(self, *args: str) -> list[str]:
        environment = [f"--environment={self.environment}"] if self.environment else []
        return [self.executable, *environment, *args]

    def _json(self, *args: str) -> t.Any:
        """The JSON a read-only `meltano` command prints, read once per project object:
        each start of Meltano costs about a second, and the definitions ask some twice."""
        if args not in self._read:
            self._read[args] = self._read_json(*args)
        return self._read[args]

    def _read_json(self, *args: str) -> t.Any:
        text = self._read_text(*args)
        return json.loads(text[text.index("{") :])

    def _read_text(self, *args: str) -> str:
        done = subprocess.run(
            self.command(*args),
            cwd=self.folder,
            env={**self.env, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise MeltanoError(f"meltano {' '.join(args)} failed: {meltano_reason(done.stderr)}")
        return done.stdout

    def jobs(self) -> list[Job]:
        listed = self._json("job", "list", "--format=json")["jobs"]
        return [Job(item["job_name"], tuple(item["tasks"])) for item in listed]

    def schedules(self) -> list[Schedule]:
        listed = self._json("schedule", "list", "--format=json")["schedules"]["job"]
        return [
            Schedule(
                name=item["name"],
                job=item["job"]["name"],
                cron=item["cron_interval"],
                env=dict(item.get("env") or {}),
            )
            for item in listed
        ]

    def plugin_config(self, plugin: str) -> dict[str, t.Any]:
        """A plugin's settings as Meltano resolves them in the environment, secrets included
        (`meltano config print` masks them; the config file `invoke --dump` writes does not).
        Kept in memory, never logged."""
        return self._json("invoke", "--dump=config", plugin)

    def plugin_env(self, plugin: str) -> dict[str, str]:
        """The environment Meltano gives a plugin it runs (a utility's settings as their
        `env` names, secrets included): what the plugin needs when run without Meltano.
        Kept in memory, never logged."""
        key = ("config", "--unsafe", "print", "--format=env", plugin)
        if key not in self._read:
            lines = self._read_text(*key).splitlines()
            pairs = (shlex.split(line)[0].split("=", 1) for line in lines if "=" in line)
            self._read[key] = dict(pair for pair in pairs if len(pair) == 2)
        return self._read[key]

    def database_uri(self) -> str:
        """The system database Meltano uses here (state, running jobs): the environment's
        `MELTANO_DATABASE_URI`, else the one Meltano resolves (meltano.yml's, else
        `.meltano/meltano.db`). It may hold a password: kept in memory, never logged."""
        if self.env.get("MELTANO_DATABASE_URI"):
            return self.env["MELTANO_DATABASE_URI"]
        return self._json("config", "--unsafe", "print", "meltano")["database_uri"]

    def plugin_extras(self, plugin: str) -> dict[str, t.Any]:
        """A plugin's extras (`_select`, `_load_schema`, …) as Meltano resolves them."""
        return self._json("config", "print", plugin, "--extras")

    def run(
        self,
        blocks: t.Sequence[str],
        *,
        run_id: str,
        full_refresh: bool = False,
        state_id_suffix: str | None = None,
        env: t.Mapping[str, str] | None = None,
        log: t.Callable[[str], None] | None = None,
    ) -> RunOutcome:
        """`meltano run <blocks>` (a job's name, or plugins: `tap-x target-y`) with the run
        ID in `MELTANO_RUN_ID` (the target writes it into the sync history); each stderr
        line goes to `log` as it comes."""
        args = ["run", *(["--full-refresh"] if full_refresh else [])]
        args += [f"--state-id-suffix={state_id_suffix}"] if state_id_suffix else []
        environment = {
            **self.env,
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "MELTANO_RUN_ID": run_id,
            **(env or {}),
        }
        tail: list[str] = []
        with subprocess.Popen(
            self.command(*args, *blocks),
            cwd=self.folder,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        ) as process:
            assert process.stderr is not None
            for line in process.stderr:
                tail = [*tail[-499:], line.rstrip("\n")]
                if log:
                    log(line.rstrip("\n"))
        return RunOutcome(process.returncode, tail)
