"""RedStone-style domain extraction, detection, filters and recipes: real pages (../shared/data/domains/dev) and
the shipped sample. Figures over the whole dev set live in bench/domain_extract.py; here, real outcomes page by page.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SHARED_DATA, needs_shared_data

from curate import read_parquet
from curate.pipeline import run_recipe
from curate.recipe import load_recipe
from curate.stages import CodeQuality, DomainDetect, MathQuality, read_warc
from curate.stages.domain.extract import make_domain_extractor

REPO = Path(__file__).resolve().parents[1]
DEV = SHARED_DATA / "domains" / "dev"
SAMPLE = str(REPO / "curate" / "data" / "sample.warc.gz")
needs_dev = needs_shared_data("domains", "dev", "index.jsonl")


@pytest.fixture(scope="module")
def dev() -> dict[str, tuple[str, dict]]:
    table = read_warc(str(DEV / "dev_pages.warc.gz"), extract=False, keep_headers=["WARC-Gold-Id"])
    html = {r["warc_gold_id"]: r["text"] for r in table.select(["warc_gold_id", "text"]).to_pylist()}
    gold = {json.loads(line)["id"]: json.loads(line) for line in (DEV / "index.jsonl").read_text().splitlines()}
    return {k: (html[k], gold[k]) for k in gold}


@pytest.fixture(scope="module")
def extract():
    return make_domain_extractor({})


def _norm(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.split("\n")).strip("\n")


@needs_dev
@pytest.mark.parametrize("page", ["webkit-geeksforgeeks", "webkit-code-8", "howdoi-so-32899", "readab-v8-blog-source"])
def test_code_blocks_byte_exact(dev, extract, page):
    """SyntaxHighlighter line tables, <br>-laid-out <code> with NBSP indentation, StackOverflow answers, <pre>."""
    html, record = dev[page]
    text = "\n\n".join(extract(html)["texts"])
    found = sum(_norm(g) in _norm(text) for g in record["gold"]["code"])
    assert found >= 0.9 * len(record["gold"]["code"]), (found, len(record["gold"]["code"]))
    assert "```" in text


@needs_dev
@pytest.mark.parametrize(
    "page,kind",
    [
        ("readab-wikipedia-3-source", "mediawiki"),
        ("webkit-math-katex-latex-1", "katex"),
        ("webkit-math-img-3", "img-mimetex-src"),
    ],
)
def test_formulas_as_latex(dev, extract, page, kind):
    """Wikipedia <math> annotations (0 of 66 before), KaTeX annotations, mimeTeX image URLs: all as $…$/$$…$$."""
    html, record = dev[page]
    text = "\n\n".join(extract(html)["texts"])
    flat = "".join(text.split())
    found = sum(f"${''.join(f.split())}$" in flat for f in record["gold"]["math"])
    assert found >= 0.9 * len(record["gold"]["math"]), (found, len(record["gold"]["math"]))


@needs_dev
def test_mathjax_rendered_mathml_becomes_latex(dev, extract):
    """A rendered MathJax page with no TeX source left: its assistive MathML is converted (13 formulas)."""
    result = extract(dev["readab-mathjax-source"][0])
    assert result["signals"]["math_elements"] >= 13
    assert "\\frac{" in result["texts"][0] or "^{" in result["texts"][0]


@needs_dev
def test_qa_thread_from_microdata(dev, extract):
    html, record = dev["howdoi-so-6367014"]
    result = extract(html)
    text = result["texts"][0]
    assert text.startswith("Question: " + record["gold"]["qa"]["title"])
    assert text.count("\nAnswer (") == len(record["gold"]["qa"]["answers"]) == result["signals"]["qa_answers"]
    assert "Answer (accepted" in text
    pairs = make_domain_extractor({"qa_format": "pairs"})(html)["texts"]
    assert len(pairs) == len(record["gold"]["qa"]["answers"])
    assert all(p.startswith("Question: ") and "\nAnswer" in p for p in pairs)


@needs_dev
def test_detection_on_real_pages(dev, extract):
    """Tags agree with the gold labels on most pages of each kind (bench/domain_extract.py has the F1)."""
    table = read_warc(str(DEV / "dev_pages.warc.gz"), domain=True, keep_headers=["WARC-Gold-Id"])
    tagged = DomainDetect()(table).to_pylist()
    for kind in ("code", "math", "qa"):
        agree = sum(r[f"is_{kind}"] == dev[r["warc_gold_id"]][1]["labels"][kind] for r in tagged)
        assert agree >= 0.95 * len(tagged), (kind, agree, len(tagged))


def test_plain_extraction_is_unchanged_by_default():
    """FineWeb path: no signal columns, same text as before the option existed (the warc tests pin the text)."""
    plain = read_warc(SAMPLE)
    assert "code_blocks" not in plain.column_names
    domain = read_warc(SAMPLE, domain=True)
    assert {"code_blocks", "math_elements", "qa_source"} <= set(domain.column_names)


def test_sample_pages_by_domain():
    """The shipped sample's code, math and QA pages keep their structure and are tagged."""
    docs = DomainDetect()(read_warc(SAMPLE, domain=True)).to_pylist()
    by_url = {d["url"].rsplit("/", 1)[-1]: d for d in docs}
    code = next(d for u, d in by_url.items() if "counting-words" in u)
    assert code["is_code"] and "```python\nimport re\n\ndef read_words(path):" in code["text"]
    math = next(d for u, d in by_url.items() if "geometric" in u)
    assert math["is_math"] and r"$S_n = a + ar + ar^2 + \dots + ar^{n-1} = \sum_{k=0}^{n-1} a r^k$" in math["text"]
    assert "$$S_{n}=a\\frac{" in math["text"].replace(" ", "")  # the MathML block, converted
    qa = by_url["sort-by-two-keys"]
    assert qa["is_qa"] and qa["domain"] == "qa" and qa["qa_answers"] == 2
    assert "Answer (accepted, 27 votes):" in qa["text"]
    assert sum(d["domain"] == "web" for d in docs) > 30
    katex = by_url["three-proofs-of-the-pythagorean-theorem.html"]  # KaTeX: the x-tex annotations
    assert katex["is_math"] and "$$a^2 + b^2 = c^2$$" in katex["text"] and r"$\tfrac{1}{2}ab$" in katex["text"]
    assert "katex-html" not in katex["text"] and "a2+b2=c2" not in katex["text"]  # the drawn copy is left out
    mathjax2 = by_url["completing-the-square-step-by-step.html"]  # MathJax 2: script type="math/tex"
    assert mathjax2["math_elements"] == 11 and r"$$x = \frac{-b \pm \sqrt{b^2 - 4ac}}{2a}$$" in mathjax2["text"]
    mathjax3 = by_url["why-the-sample-variance-divides-by-n-1.html"]  # MathJax 3: mjx-container, assistive MathML
    assert r"$$s^{2}=\frac{1}{n-1}\sum_{i=1}^{n}(x_{i}-\overline{x})^{2}$$" in mathjax3["text"]
    table = by_url["ring-buffers-a-fixed-size-queue.html"]  # Pygments highlighttable: gutter out, one block
    assert table["is_code"] and "```python\nclass RingBuffer:\n    def __init__(self, size):\n" in table["text"]
    assert "|" not in table["text"] and "\n1\n2\n" not in table["text"]


def test_sample_forum_thread():
    """The sample's phpBB thread: with forums: true, one thread document; quotes and signatures left out."""
    docs = DomainDetect()(read_warc(SAMPLE, domain=True, forums=True)).to_pylist()
    forum = next(d for d in docs if "field-radio" in d["url"])
    assert forum["is_forum"] and not forum["is_qa"] and forum["qa_source"] == "forum:phpbb"
    text = forum["text"]
    assert text.startswith("Question: Which tip temperature for lead-free solder?\n\nI am rebuilding")
    assert text.count("\nAnswer:\n") == 2 and "QRP since 2019" not in text and "Board index" not in text
    assert text.count("Start at 350 and go to 370") == 1  # the reply's quote of the answer is not repeated


def test_code_and_math_filters():
    code = CodeQuality().run_table(DomainDetect(keep=["code"])(read_warc(SAMPLE, domain=True)))
    assert code.kept.num_rows >= 2  # the tutorial and the QA thread
    good = "Some words of explanation about the loop below and why it works well. " * 3
    assert CodeQuality().check(good + "\n```\nfor i in range(3):\n    print(i)\n```\n") is None
    assert CodeQuality().check(good + "\n```\n" + "x" * 1200 + "\n```\n") == "code_avg_line_length"
    assert CodeQuality().check(good) == "code_no_blocks"
    assert MathQuality().check(good + " $a^2 + b^2 = c^2$ holds.") is None
    assert MathQuality().check(good + " costs $5 and $a^2$") == "math_unbalanced"
    assert MathQuality().check(good) == "math_no_formulas"


def _run(recipe: str, out: Path) -> None:
    run_recipe(
        load_recipe(
            str(REPO / "recipes" / recipe), [f"output={out}", "execution.report=false", "execution.executor=local"]
        )
    )


@pytest.mark.parametrize(
    "recipe,kept,pages",
    [
        ("code", ["is_code"], ["counting-words", "ring-buffers"]),
        ("math", ["is_math"], ["pythagorean", "completing-the-square", "sample-variance"]),
        ("qa", ["is_qa", "is_forum"], ["sort-by-two-keys", "viewtopic.php"]),
    ],
)
def test_domain_recipes_end_to_end(tmp_path, recipe, kept, pages):
    """Each domain recipe on the sample keeps its pages (KaTeX, MathJax 2 and 3, a line-number table, a forum
    thread among them) and only pages tagged with its kind."""
    _run(f"redstone-{recipe}.yaml", tmp_path / "out")
    rows = read_parquet(str(tmp_path / "out" / "minhash_dedup")).to_pylist()
    assert all(any(r[k] for k in kept) for r in rows)
    urls = [r["url"] for r in rows]
    for page in pages:
        assert any(page in u for u in urls), (page, urls)


def test_mix_recipe_end_to_end(tmp_path):
    _run("redstone-mix.yaml", tmp_path / "out")
    mixed = read_parquet(str(tmp_path / "out" / "mix"))
    assert set(mixed.column("domain").to_pylist()) == {"web", "code", "math", "qa"}


def test_classifier_scores_join_the_tags():
    """domain_detect(classifier_scores): a page is code when its markup says so or its classifier score is at least
    min_score; the pages only the classifier tagged are counted, and keep uses the joined tag."""
    import pyarrow as pa

    table = read_warc(SAMPLE, domain=True)
    tags = DomainDetect()(table).column("is_code").to_pylist()
    untagged = tags.index(False)
    scores = [0.9 if i == untagged else 0.1 for i in range(table.num_rows)]
    table = table.append_column("code_score", pa.array(scores, pa.float32()))
    out = DomainDetect(keep=["code"], classifier_scores={"code": "code_score"}, min_score=0.5).run_table(table)
    assert out.counters["tagged_by_classifier"] == 1
    assert out.kept.num_rows == sum(tags) + 1 and all(out.kept.column("is_code").to_pylist())
    assert DomainDetect(classifier_scores={"code": "code_score"}).input_columns() == {"text", "code_score"}
