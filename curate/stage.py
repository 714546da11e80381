"""The stage contract: what every step of a recipe is.

A step is a class with a recipe key (``name``), typed parameters (a nested pydantic ``Params`` model, whose
fields and descriptions give the recipe schema, ``curate steps`` and the docs), the columns it needs and adds,
the resources it wants, and one of three kinds:

* ``map`` — document-local: ``setup()`` once per worker, then ``process(table)`` per record batch, returning the
  kept rows (columns added) or a :class:`StepOutput` with the removed rows and their reasons.
* ``source`` — reads one input file (a WARC, WET, JSONL …) and yields batches of documents: ``read(source)``.
* ``global`` — needs the whole corpus (dedup, packing, mixing): ``phases()`` returns the ordered phases the
  engine runs with a barrier between them, each phase shard- or partition-granular and resumable.

Stages never see the executor, the output layout or Ray. The engine never knows what a stage does.
"""

from __future__ import annotations

import hashlib
import io
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Annotated, Any, ClassVar, Literal

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field

from curate.errors import Problem
from curate.table import TableLike, from_arrow, to_arrow

REASON_COLUMN = "reason"
#: counter a step sets when it writes more rows than it read (copies, when upsampling): docs in = out + removed - added
ROWS_ADDED = "rows_added"


class Params(BaseModel):
    """Base of every step's parameters: unknown keys are errors, values are validated and coerced. Ranges live in
    the fields (``Field(ge=0)``, :data:`Ratio`), pairs in :meth:`check_order`, so ``curate validate`` reports them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def check_order(self, *pairs: tuple[str, str]) -> None:
        """A ``ValueError`` when a lower bound is above its upper bound (``("min_doc_words", "max_doc_words")``);
        None on either side is no bound. For a ``model_validator(mode="after")``."""
        for low, high in pairs:
            a, b = getattr(self, low), getattr(self, high)
            if a is not None and b is not None and a > b:
                raise ValueError(f"{low} ({a}) is above {high} ({b}): nothing could pass; lower {low} or raise {high}")


#: a share or probability that documents must reach (a lower bound): 0 to 1. An upper bound on a share is a
#: ``NonNegativeFloat``: 1 or more turns its rule off, as FineWeb2's per-language table does for some languages
Ratio = Annotated[float, Field(ge=0, le=1)]


class StepOptions(BaseModel):
    """Options every step accepts besides its own parameters (engine concerns, not the step's method)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keep_rejected: bool = Field(False, description="write removed documents to OUT/<step>/rejected/ with a reason")
    cpus: float | None = Field(None, description="CPUs per worker for this step (default: the step's own)")
    gpus: float | None = Field(None, description="GPUs per worker for this step (default: the step's own)")
    memory_gb: float | None = Field(None, description="memory per worker in GiB, for the scheduler")
    concurrency: int | None = Field(None, description="at most this many workers run this step at once")
    batch_size: int | None = Field(None, description="documents per record batch for this step")
    partition_by: str | None = Field(
        None,
        description="write kept documents Hive-style by this column's value: "
        "OUT/<step>/<column>=<value>/<shard>.parquet (e.g. language)",
    )
    resources: dict[str, float] | None = Field(
        None,
        description="custom Ray resources per worker, matching node "
        "labels (`ray start --resources '{\"highmem\": 1}'`): {highmem: 1}",
    )


@dataclass(frozen=True)
class Resources:
    """What one worker of a step needs; the Ray executor turns these into task/actor resource requests."""

    cpus: float = 1.0
    gpus: float = 0.0
    memory_gb: float | None = None
    #: load state (a model) once per worker and keep the worker: the Ray executor uses an actor pool.
    stateful: bool = False
    #: custom resources (node labels) a worker needs, as (name, amount) pairs
    custom: tuple[tuple[str, float], ...] = ()


@dataclass
class StepOutput:
    """What a step returns for one batch: the kept rows, the removed rows (with ``reason``), and counters.

    ``counters`` counts events that are not documents (skipped WARC records by reason, truncated pages …); the
    engine adds them to the step's stats.
    """

    kept: pa.Table
    rejected: pa.Table | None = None
    counters: dict[str, int] = field(default_factory=dict)

    @classmethod
    def split(
        cls, table: pa.Table, reasons: Sequence[str | None] | pa.Array, counters: dict[str, int] | None = None
    ) -> StepOutput:
        """Split ``table`` by per-row removal reasons: ``None`` keeps the row, a string removes it for that reason."""
        reasons_array = reasons if isinstance(reasons, pa.Array | pa.ChunkedArray) else pa.array(reasons, pa.string())
        removed_mask = pc.is_valid(reasons_array)
        kept = table.filter(pc.invert(removed_mask))
        rejected = None
        if pc.any(removed_mask).as_py():
            rejected = table.filter(removed_mask).append_column(REASON_COLUMN, reasons_array.filter(removed_mask))
        return cls(kept, rejected, dict(counters or {}))

    def removed_by_reason(self) -> dict[str, int]:
        if self.rejected is None or self.rejected.num_rows == 0:
            return {}
        counts = pc.value_counts(self.rejected.column(REASON_COLUMN)).to_pylist()
        return {c["values"]: c["counts"] for c in counts}


class SourceFile:
    """One input file as a source step sees it: its path and a way to open it (local or remote)."""

    def __init__(self, path: str, opener: Callable[[], IO[bytes]], size: int | None = None):
        self.path = path
        self.size = size
        self._opener = opener

    def open(self) -> IO[bytes]:
        return self._opener()

    @classmethod
    def from_bytes(cls, path: str, data: bytes) -> SourceFile:
        return cls(path, lambda: io.BytesIO(data), len(data))


@dataclass(frozen=True)
class Phase:
    """One phase of a global step. ``over`` says what its units of work are:

    * ``"shards"`` — one unit per input shard; ``run(ctx, shard_name)`` may call ``ctx.emit`` (the last phase
      must, for every shard) and ``ctx.write_table``/``ctx.write_json`` for later phases.
    * ``"partitions"`` — ``partitions`` units, ids ``0..partitions-1``; ``run(ctx, partition_id)``.
    * ``"once"`` — a single unit (a small global reduce); ``run(ctx, None)``.

    ``run`` returns a small JSON-able summary, which later phases read as ``ctx.summaries[phase_name][unit]``.
    """

    name: str
    over: Literal["shards", "partitions", "once"]
    run: Callable[[Any, Any], dict | None]
    partitions: int = 0


#: the module's ``Params`` under a name a class body can use (inside :class:`Stage`, ``Params`` is the attribute)
_BaseParams = Params


class Stage:
    """Base of every step. Subclasses set ``name``, ``kind``, a nested ``Params`` model and implement the methods
    of their kind. Call a built step on a ``pyarrow.Table`` or ``polars.DataFrame`` to get the kept documents back
    in the same type (``map`` steps and ``global`` steps both work in a notebook); ``run_table`` returns the full
    :class:`StepOutput`.
    """

    name: ClassVar[str] = ""
    kind: ClassVar[Literal["map", "source", "global"]] = "map"
    #: one line of help, shown by ``curate steps`` (defaults to the first docstring line)
    help: ClassVar[str] = ""
    requires: ClassVar[tuple[str, ...]] = ("text",)
    adds: ClassVar[tuple[str, ...]] = ()
    resources: ClassVar[Resources] = Resources()
    #: bump when the step's behaviour changes, so resumed runs redo its shards
    version: ClassVar[int] = 1
    Params: ClassVar[type[_BaseParams]] = Params

    def __init__(
        self, params: _BaseParams | dict | None = None, options: StepOptions | dict | None = None, **kwargs: Any
    ):
        if isinstance(params, Params):
            if kwargs:
                raise TypeError(f"{self.name}: pass parameters either as a Params object or as keywords, not both")
            self.params = params
        else:
            values = dict(params or {})
            values.update(kwargs)
            option_keys = set(StepOptions.model_fields) & set(values)
            extra_options = {k: values.pop(k) for k in option_keys}
            self.params = self.Params(**values)
            options = {**(options.model_dump() if isinstance(options, StepOptions) else options or {}), **extra_options}
        self.options = options if isinstance(options, StepOptions) else StepOptions(**(options or {}))
        self._is_set_up = False

    # -- lifecycle -------------------------------------------------------------------------------------------
    def setup(self) -> None:
        """Once per worker before the first batch: load models, compile patterns. Default: nothing."""

    def teardown(self) -> None:
        """Once per worker after its last unit of work (the engine calls it when a run or a worker ends): free
        models, close files and pools. Default: nothing."""

    def ensure_setup(self) -> None:
        if not self._is_set_up:
            self.setup()
            self._is_set_up = True

    # -- kinds -------------------------------------------------------------------------------------------------
    def process(self, table: pa.Table) -> pa.Table | StepOutput:
        """``map`` steps: one record batch in (as a Table), kept rows out, or a StepOutput with removals."""
        raise NotImplementedError(f"step {self.name!r} is a {self.kind} step and has no process()")

    def read(self, source: SourceFile) -> Iterator[StepOutput | pa.Table]:
        """``source`` steps: yield batches of documents read from one input file."""
        raise NotImplementedError(f"step {self.name!r} is a {self.kind} step and has no read()")

    def phases(self) -> list[Phase]:
        """``global`` steps: the ordered phases."""
        raise NotImplementedError(f"step {self.name!r} is a {self.kind} step and has no phases()")

    # -- notebook API ------------------------------------------------------------------------------------------
    def run_table(self, table: TableLike) -> StepOutput:
        """Run this step on an in-memory table of documents (no files, no cluster) and return kept + removed."""
        arrow = to_arrow(table)
        self.ensure_setup()
        if self.kind == "map":
            return as_step_output(self.process(arrow))
        if self.kind == "global":
            from curate.inmemory import run_global_in_memory

            return run_global_in_memory(self, arrow)
        raise TypeError(f"step {self.name!r} reads files; call it on a path with curate.read_* instead")

    def __call__(self, table: TableLike) -> TableLike:
        return from_arrow(self.run_table(table).kept, like=table)

    # -- description -------------------------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """What identifies this step's output (fingerprinted for resume): name, version, parameters, whether
        removed documents are kept, how the output is partitioned, and the step's code (:func:`code_fingerprint`)."""
        return {
            "step": self.name,
            "version": self.version,
            "params": self.params.model_dump(mode="json"),
            "keep_rejected": self.options.keep_rejected,
            "partition_by": self.options.partition_by,
            "code": code_fingerprint(type(self)),
        }

    def check_files(self) -> list[Problem]:
        """Problems with the files and models this step's parameters name, found before any work starts: a local
        path that does not exist, a model that must be downloaded and is neither cached nor reachable (the message
        names the offline alternative; helpers in :mod:`curate.cache`). ``curate validate`` and ``curate run`` report
        them with the recipe's other errors. Default: none."""
        return []

    def input_columns(self) -> set[str]:
        """The columns this step reads, as its parameters make them (``requires`` plus e.g. a score column); the
        plan checks each is made by the input or an earlier step before any work starts."""
        return set(self.requires)

    def output_columns(self) -> set[str]:
        """The columns this step adds, as its parameters name them (``adds`` without ``<placeholder>`` names)."""
        return {c for c in self.adds if not c.startswith("<")}

    def effective_resources(self) -> Resources:
        o = self.options
        r = self.resources
        return Resources(
            cpus=r.cpus if o.cpus is None else o.cpus,
            gpus=r.gpus if o.gpus is None else o.gpus,
            memory_gb=r.memory_gb if o.memory_gb is None else o.memory_gb,
            stateful=r.stateful or bool(o.gpus),
            custom=tuple(sorted({**dict(r.custom), **(o.resources or {})}.items())),
        )

    @classmethod
    def one_line_help(cls) -> str:
        if cls.help:
            return cls.help
        paragraph = " ".join((cls.__doc__ or "").strip().split("\n\n")[0].split())
        sentence_end = paragraph.find(". ")
        return paragraph[: sentence_end + 1] if sentence_end > 0 else paragraph

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.model_dump().items())
        return f"{type(self).__name__}({args})"


def code_fingerprint(cls: type) -> str:
    """The step's code as far as it can be seen: curate's version plus the source of the module defining the
    class (a plugin's edited file, or a curate upgrade, redoes the step; helpers in other modules are covered by
    curate's version and by bumping the step's ``version``)."""
    import curate

    module = sys.modules.get(cls.__module__)
    path = getattr(module, "__file__", None)
    try:
        with open(path, "rb") as f:  # type: ignore[arg-type]
            source = f.read()
    except (OSError, TypeError):
        source = f"{cls.__module__}.{cls.__qualname__}".encode()
    return hashlib.sha256(curate.__version__.encode() + b"\0" + source).hexdigest()[:16]


def as_step_output(result: pa.Table | StepOutput) -> StepOutput:
    if isinstance(result, StepOutput):
        return result
    if isinstance(result, pa.Table):
        return StepOutput(result)
    raise TypeError(f"a step must return a pyarrow.Table or a StepOutput, not {type(result).__name__}")
