"""The README's notebook example runs as written."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO


def test_readme_notebook_example_runs():
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("### In a notebook") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "English pages" in proc.stdout and "after Gopher quality and MinHash dedup" in proc.stdout


def test_readme_recipe_example_validates():
    from curate.recipe import parse_recipe

    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("### Recipes") :]
    text = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    recipe = parse_recipe(text, "README.md")
    assert [s.name for s in recipe.steps][:2] == ["warc_extract", "language_id"]
    assert recipe.steps[-1].stage.options.gpus == 1
