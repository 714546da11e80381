"""Recipe validation: bad recipes fail before any work, naming file, line, field and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from curate.errors import RecipeError
from curate.recipe import load_recipe, parse_recipe

GOOD = """\
name: t
input: {paths: ["in/*.parquet"]}
output: out
steps:
  - engine_stages:MinLength: {min_chars: 10, keep_rejected: true}
  - engine_stages:Upper: {}
"""


def error_of(text: str, overrides: list[str] | None = None) -> str:
    with pytest.raises(RecipeError) as info:
        parse_recipe(text, "r.yaml", overrides)
    return str(info.value)


def test_good_recipe_builds_steps_with_params_and_options():
    recipe = parse_recipe(GOOD, "r.yaml")
    assert [s.stage.name for s in recipe.steps] == ["min_length", "upper"]
    assert recipe.steps[0].stage.params.min_chars == 10
    assert recipe.steps[0].stage.options.keep_rejected is True
    assert recipe.steps[0].line == 5


def test_unknown_step_names_line_and_suggests():
    message = error_of(GOOD.replace("engine_stages:Upper", "warc_extrac"))
    assert message.startswith("r.yaml:6: steps[1]: unknown step 'warc_extrac'")
    assert "Known steps:" in message


def test_unknown_parameter_names_line_field_and_allowed():
    message = error_of(GOOD.replace("min_chars: 10", "min_char: 10"))
    assert "r.yaml:5:" in message and "min_char" in message and "did you mean 'min_chars'" in message
    assert "accepts: min_chars, sleep_per_batch" in message


def test_wrong_type_names_value():
    message = error_of(GOOD.replace("min_chars: 10", "min_chars: ten"))
    assert "r.yaml:5:" in message and "min_chars" in message and "'ten'" in message


def test_missing_output_and_unknown_top_level_field():
    message = error_of(GOOD.replace("output: out\n", "outptu: out\n"))
    assert "output: required field 'output' is missing" in message
    assert "r.yaml:3: outptu" in message


def test_bad_execution_option():
    message = error_of(GOOD + "execution: {executor: spark}\n")
    assert "r.yaml:7: execution.executor" in message and "'spark'" in message


def test_yaml_syntax_error_has_line():
    assert error_of(GOOD + "  - [unclosed\n").startswith("r.yaml:")


def test_step_item_must_be_single_mapping():
    assert "each step is a mapping of one step name" in error_of(GOOD + "  - {a: 1, b: 2}\n")


def test_plugin_that_does_not_exist():
    assert "could not be loaded" in error_of(GOOD.replace("engine_stages:Upper", "engine_stages:Nope"))


def test_overrides_are_validated_like_the_file():
    recipe = parse_recipe(
        GOOD,
        "r.yaml",
        [
            "input.paths=/data/x.parquet",
            "steps.engine_stages:MinLength.min_chars=3",
            "execution.executor=local",
            "output=elsewhere",
        ],
    )
    assert recipe.input_paths == ["/data/x.parquet"]
    assert recipe.steps[0].stage.params.min_chars == 3
    assert recipe.execution.executor == "local"
    assert recipe.output == "elsewhere"
    assert parse_recipe(GOOD, "r.yaml", ["steps.1.suffix=done"]).steps[1].stage.params.suffix == "done"
    assert "min_chars" in error_of(GOOD, ["steps.engine_stages:MinLength.min_chars=many"])
    assert "has no step 'nope'" in error_of(GOOD, ["steps.nope.x=1"])
    assert "expected KEY=VALUE" in error_of(GOOD, ["novalue"])


def test_missing_file():
    with pytest.raises(RecipeError, match="cannot read recipe"):
        load_recipe("/nonexistent/recipe.yaml")


def test_shipped_recipes_validate():
    for path in sorted((Path(__file__).resolve().parents[1] / "recipes").glob("*.yaml")):
        load_recipe(str(path))
