"""Small real steps used by the engine tests (loaded as plugins: ``engine_stages:ClassName``)."""

from __future__ import annotations

import os
import time

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate.stage import Params, Phase, Resources, Stage, StepOutput


class MinLength(Stage):
    """Drops documents shorter than ``min_chars`` characters; adds ``length``."""

    name = "min_length"
    adds = ("length",)

    class Params(Params):
        min_chars: int = Field(20, description="shortest text kept")
        sleep_per_batch: float = Field(0.0, description="seconds slept per batch (to test kills mid-run)")

    def process(self, table: pa.Table) -> StepOutput:
        if self.params.sleep_per_batch:
            time.sleep(self.params.sleep_per_batch)
        lengths = pc.utf8_length(table.column("text")).cast(pa.int64())
        table = table.append_column("length", lengths)
        short = pc.less(lengths, self.params.min_chars)
        reasons = pc.if_else(short, pa.scalar("too_short"), pa.scalar(None, pa.string()))
        return StepOutput.split(table, reasons)


class Upper(Stage):
    """Upper-cases the text (a transform: keeps every row)."""

    name = "upper"

    class Params(Params):
        wait_to_be_killed: str | None = Field(
            None,
            description="a folder: until it holds `killed`, write this worker's pid there and wait (to be SIGKILLed)",
        )
        suffix: str = Field("", description="appended to every text")

    def process(self, table: pa.Table) -> pa.Table:
        folder = self.params.wait_to_be_killed
        if folder and not os.path.exists(os.path.join(folder, "killed")):
            open(os.path.join(folder, f"{os.getpid()}.pid"), "w").close()
            deadline = time.time() + 60
            while not os.path.exists(os.path.join(folder, "killed")) and time.time() < deadline:
                time.sleep(0.05)  # the test kills one waiting worker; the others go on once it has
        text = pc.utf8_upper(table.column("text"))
        if self.params.suffix:
            text = pc.binary_join_element_wise(text, pa.scalar(self.params.suffix), "")
        return table.set_column(table.column_names.index("text"), "text", text)


class UpperOnActors(Upper):
    """``Upper`` declared stateful, as a step with a model is: Ray runs it on an actor pool."""

    name = "upper_on_actors"
    resources = Resources(cpus=1, stateful=True)


class CountWords(Stage):
    """A global step: counts words over the whole corpus, then tags each document with its share."""

    name = "count_words"
    kind = "global"
    adds = ("word_share",)

    class Params(Params):
        partitions: int = 2

    def phases(self) -> list[Phase]:
        return [
            Phase("count", "shards", self._count),
            Phase("total", "once", self._total),
            Phase("tag", "shards", self._tag),
        ]

    def _count(self, ctx, shard):
        table = ctx.read_input(shard, ["text"])
        words = pc.sum(pc.list_value_length(pc.utf8_split_whitespace(table.column("text")))).as_py() or 0
        return {"words": int(words)}

    def _total(self, ctx, _):
        return {"total": sum(s["words"] for s in ctx.summaries["count"].values())}

    def _tag(self, ctx, shard):
        total = ctx.summaries["total"][None]["total"]
        for batch in [ctx.read_input(shard)]:
            words = pc.list_value_length(pc.utf8_split_whitespace(batch.column("text"))).cast(pa.float64())
            ctx.emit(shard, batch.append_column("word_share", pc.divide(words, float(max(total, 1)))))
        return None


class FailAfter(Stage):
    """Passes batches through, then raises on batch number ``fail_at`` of the worker (a step failing partway through
    a shard), or on a batch holding a text that contains ``poison``."""

    name = "fail_after"

    class Params(Params):
        fail_at: int = Field(3, description="the 1-based batch that raises (0: never)")
        poison: str = Field("", description="raise on a batch with a text containing this")

    def setup(self) -> None:
        self._batches = 0

    def process(self, table: pa.Table) -> pa.Table:
        self._batches += 1
        if self.params.fail_at and self._batches >= self.params.fail_at:
            raise RuntimeError(f"failing on batch {self._batches} as asked")
        if self.params.poison and pc.any(pc.match_substring(table.column("text"), self.params.poison)).as_py():
            raise RuntimeError(f"a text contains {self.params.poison!r}")
        return table
