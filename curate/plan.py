"""Planning a run: steps with unique output folders, fused segments, and per-shard fingerprints.

Consecutive document-local steps (a source step and the ``map`` steps after it) form one *segment*: one task
takes one shard through all of them in a single pass, writing each step's output as it goes. A ``global`` step is
a segment of its own, run phase by phase with a barrier between phases.

Fingerprints chain: a step's fingerprint for a shard hashes its config with the fingerprint of what it read (the
input file's identity, or the previous step's fingerprint), so changing a step's parameters changes its own
fingerprint and those of every step after it, while earlier steps keep theirs and are skipped on rerun.
"""

from __future__ import annotations

import atexit
import os
import re
from dataclasses import dataclass, field
from typing import Any

from curate.fingerprint import fingerprint, fingerprinter
from curate.io import InputFile
from curate.stage import Stage, StepOptions

_STAGE_CACHE: dict[tuple[Any, str], Stage] = {}


@dataclass(frozen=True)
class StepSpec:
    """A picklable description of one built step: its class, parameters, options and output folder name."""

    key: str
    index: int
    stage_class: type[Stage]
    params: dict[str, Any]
    options: dict[str, Any]

    @property
    def kind(self) -> str:
        return self.stage_class.kind

    def build(self) -> Stage:
        """The step, built and set up once per worker process (models load once, regexes compile once)."""
        cache_key = (self.stage_class, fingerprint(self.params, self.options))
        stage = _STAGE_CACHE.get(cache_key)
        if stage is None:
            if not _STAGE_CACHE:
                atexit.register(teardown_stages)  # task workers have no other "last unit" signal
            stage = self.stage_class(self.params, StepOptions(**self.options))
            _STAGE_CACHE[cache_key] = stage
        stage.ensure_setup()
        return stage

    def config(self) -> dict[str, Any]:
        stage = self.stage_class(self.params, StepOptions(**self.options))
        return stage.config()

    @classmethod
    def from_stage(cls, stage: Stage, key: str, index: int) -> StepSpec:
        return cls(
            key,
            index,
            type(stage),
            absolute_paths(stage.params.model_dump(mode="json")),
            stage.options.model_dump(mode="json"),
        )


def teardown_stages() -> None:
    """Call ``teardown()`` on every step this process built and forget them (end of a run or of a worker)."""
    stages = list(_STAGE_CACHE.values())
    _STAGE_CACHE.clear()
    atexit.unregister(teardown_stages)
    for stage in stages:
        if stage._is_set_up:
            stage.teardown()


@dataclass
class Segment:
    """Steps run together per shard (``local``) or one global step (``global``)."""

    kind: str
    steps: list[StepSpec] = field(default_factory=list)


#: file suffixes that mark a parameter value as a path (besides a path separator or a leading dot)
_PATH_SUFFIXES = (
    ".json",
    ".yaml",
    ".yml",
    ".txt",
    ".bin",
    ".ftz",
    ".model",
    ".parquet",
    ".jsonl",
    ".gz",
    ".xz",
    ".tsv",
    ".csv",
    ".vocab",
    ".safetensors",
    ".pt",
    ".onnx",
    ".zst",
)


def absolute_paths(value: Any) -> Any:
    """``value`` with every relative path to an existing local file or folder made absolute, on the driver, so
    steps find it wherever they run (a Ray worker's working directory is not the driver's). A string counts as a
    path when it has a separator, starts with ``.`` or ends with a file suffix, and exists."""
    if isinstance(value, dict):
        return {k: absolute_paths(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(absolute_paths(v) for v in value)
    if (
        isinstance(value, str)
        and value
        and "://" not in value
        and not os.path.isabs(value)
        and ("/" in value or value.startswith(".") or value.lower().endswith(_PATH_SUFFIXES))
        and os.path.exists(value)
    ):
        return os.path.abspath(value)
    return value


def local_paths(value: Any) -> list[str]:
    """The absolute local paths that exist inside a step's parameters (after :func:`absolute_paths`)."""
    if isinstance(value, dict):
        return [p for v in value.values() for p in local_paths(v)]
    if isinstance(value, list | tuple):
        return [p for v in value for p in local_paths(v)]
    return [value] if isinstance(value, str) and os.path.isabs(value) and os.path.exists(value) else []


def unique_keys(names: list[str]) -> list[str]:
    """Output folder per step: the step name, with ``_2``, ``_3`` … when a step appears more than once."""
    seen: dict[str, int] = {}
    keys = []
    for name in names:
        base = re.sub(r"[^a-z0-9_-]", "_", name.rsplit(":", 1)[-1].lower()).strip("_") or "step"  # a safe folder
        seen[base] = seen.get(base, 0) + 1
        keys.append(base if seen[base] == 1 else f"{base}_{seen[base]}")
    return keys


def segments(steps: list[StepSpec]) -> list[Segment]:
    out: list[Segment] = []
    for spec in steps:
        if spec.kind == "global":
            out.append(Segment("global", [spec]))
        elif spec.kind == "source" or not out or out[-1].kind == "global":
            out.append(Segment("local", [spec]))
        else:
            out[-1].steps.append(spec)
    return out


def shard_fingerprints(steps: list[StepSpec], inputs: list[InputFile]) -> list[dict[str, str]]:
    """``fps[i][shard]``: the fingerprint of step ``i``'s output for ``shard``."""
    current = input_fingerprints(inputs)
    result = []
    for spec in steps:
        config = spec.config()
        if spec.kind == "global":
            of_shard = fingerprinter(fingerprint(config, sorted(current.items())))
            current = {shard: of_shard(shard) for shard in current}
        else:
            of_input = fingerprinter(config)
            current = {shard: of_input(fp) for shard, fp in current.items()}
        result.append(dict(current))
    return result


def run_ids(steps: list[StepSpec], fps: list[dict[str, str]], inputs: list[InputFile]) -> dict[str, str]:
    """A global step's run id: its fingerprint over all of its input. Its scratch files and phase markers live
    under this id (``OUT/<step>/_work/<run id>/``), so they belong to exactly one configuration of the run."""
    first_is_global = any(spec.kind == "global" and spec.index == 0 for spec in steps)
    start = input_fingerprints(inputs) if first_is_global else {}  # (100,000 inputs: not hashed twice for nothing)
    return {
        spec.key: global_fingerprint(spec, fps[spec.index - 1] if spec.index > 0 else start)
        for spec in steps
        if spec.kind == "global"
    }


def input_fingerprints(inputs: list[InputFile]) -> dict[str, str]:
    return {f.shard: fingerprint("input", f.identity()) for f in inputs}


def global_fingerprint(spec: StepSpec, upstream: dict[str, str]) -> str:
    return fingerprint(spec.config(), sorted(upstream.items()))
