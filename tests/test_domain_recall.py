"""RedStone-style recall end to end: extract → tag → seed labels → ``curate train-classifier`` → classify.

Input: the shipped sample plus pages written here (programming tutorials on a docs site, general pages on a
community site) as a WARC. The seed recipe labels pages from their markup; a fastText code classifier is trained on
those labels; the recall recipe classifies pages it never saw — one of them a tutorial whose code sits in plain
paragraphs (no ``<pre>``/``<code>``: no tag can see it) — and keeps what the tags or the classifier call code.
A seed set this small shows the mechanics, not a classifier's quality (bench/domain_recall.py measures that on
real pages).
"""

from __future__ import annotations

import gzip
import html
import json
import uuid
from pathlib import Path

import pytest

from curate import read_parquet
from curate.classifiers.train import main as train_classifier
from curate.pipeline import run_recipe
from curate.recipe import load_recipe

REPO = Path(__file__).resolve().parents[1]
SAMPLE = str(REPO / "curate" / "data" / "sample.warc.gz")

# (title, language, explanation before, code, explanation after)
TUTORIALS = [
    (
        "Reading a CSV file line by line",
        "python",
        "The csv module reads rows as lists of strings. Open the file with newline set to an empty string so that "
        "quoted fields with line breaks stay in one row, then loop over the reader.",
        'import csv\n\nwith open("stations.csv", newline="") as f:\n    for row in csv.reader(f):\n'
        "        print(row[0], float(row[2]))\n",
        "Each row is a list, so convert numbers yourself. For named columns use csv.DictReader instead.",
    ),
    (
        "Debouncing a search box in JavaScript",
        "javascript",
        "A debounced function waits until the user stops typing before it runs. The timer is reset on every call, "
        "so only the last call within the delay does any work.",
        "function debounce(fn, delay) {\n  let timer;\n  return function (...args) {\n    clearTimeout(timer);\n"
        "    timer = setTimeout(() => fn.apply(this, args), delay);\n  };\n}\n",
        "Wrap the input handler with debounce and a delay of about 300 milliseconds for a search box.",
    ),
    (
        "Counting orders per customer in SQL",
        "sql",
        "GROUP BY collapses the rows of each customer into one, and COUNT counts the rows that were collapsed. "
        "HAVING filters the groups after they are counted.",
        "SELECT customer_id, COUNT(*) AS orders\nFROM orders\nWHERE created_at >= '2025-01-01'\n"
        "GROUP BY customer_id\nHAVING COUNT(*) > 3\nORDER BY orders DESC;\n",
        "An index on created_at lets the database skip old orders instead of reading the whole table.",
    ),
    (
        "Renaming files in a folder with a shell loop",
        "bash",
        "A for loop over a glob visits every matching file. Quoting the variable keeps names with spaces intact, "
        "and parameter expansion strips the old extension.",
        'for f in *.jpeg; do\n  mv -- "$f" "${f%.jpeg}.jpg"\ndone\n',
        "Run it first with echo in front of mv to see what would happen without renaming anything.",
    ),
    (
        "Reading a file into a string in Go",
        "go",
        "The os package reads a whole file in one call. It returns the bytes and an error, and idiomatic Go checks "
        "the error before using the result.",
        'package main\n\nimport (\n\t"fmt"\n\t"os"\n)\n\nfunc main() {\n\tdata, err := os.ReadFile("notes.txt")\n'
        "\tif err != nil {\n\t\tpanic(err)\n\t}\n\tfmt.Println(string(data))\n}\n",
        "For large files read them in chunks with a bufio.Scanner so that memory use stays flat.",
    ),
    (
        "Summing a vector with an iterator in Rust",
        "rust",
        "Iterators in Rust are lazy: nothing happens until a consuming method such as sum is called. The type of "
        "the sum has to be known, so annotate the variable.",
        "fn main() {\n    let prices = vec![3, 14, 15, 92];\n    let total: i32 = prices.iter().sum();\n"
        '    println!("total = {}", total);\n}\n',
        "Use iter().map() before sum when each element needs converting first.",
    ),
    (
        "Swapping two integers in C with pointers",
        "c",
        "C passes arguments by value, so a function that swaps two integers must receive their addresses and "
        "write through the pointers.",
        "#include <stdio.h>\n\nvoid swap(int *a, int *b) {\n    int tmp = *a;\n    *a = *b;\n    *b = tmp;\n}\n\n"
        'int main(void) {\n    int x = 1, y = 2;\n    swap(&x, &y);\n    printf("%d %d\\n", x, y);\n    return 0;\n}\n',
        "Forgetting the ampersands at the call site is the usual mistake: the compiler warns about it.",
    ),
    (
        "Filtering a list with streams in Java",
        "java",
        "A stream turns a collection into a pipeline of operations. filter keeps the elements that match and "
        "collect gathers the survivors into a new list.",
        'List<String> names = List.of("Ada", "Grace", "Alan");\nList<String> shortNames = names.stream()\n'
        "    .filter(n -> n.length() <= 4)\n    .collect(Collectors.toList());\nSystem.out.println(shortNames);\n",
        "The original list is left unchanged; streams never modify their source.",
    ),
]

GENERAL = [
    (
        "Planting garlic in autumn",
        "Garlic needs a cold spell to split into cloves, which is why it goes into the ground in October or "
        "November. Choose a sunny bed that drains well, push each clove in with the pointed end up, and leave a "
        "hand's width between them. A layer of straw keeps the worst frost off. By midsummer the leaves turn "
        "yellow, and that is the sign to lift the bulbs and let them dry in an airy shed for two weeks.",
    ),
    (
        "A short history of the village mill",
        "The mill on the river was first mentioned in a deed of 1342, when it ground grain for three parishes. "
        "It burned down twice, was rebuilt in stone in the eighteenth century, and worked until the miller's "
        "last apprentice retired in 1958. Volunteers restored the wheel in the nineties, and on open days the "
        "millstones turn again while visitors buy flour that was ground in front of them.",
    ),
    (
        "How to prepare for a long hike",
        "Break in new boots on short walks before the trip, never on the day itself. Pack layers rather than one "
        "heavy coat, because the weather on a ridge can change within the hour. Carry more water than you think "
        "you need, tell someone where you are going, and check the time of sunset so you are off the hill before "
        "dark. A paper map still works when the phone battery does not.",
    ),
    (
        "Our choir's spring concert",
        "Thank you to everyone who came to the spring concert in the town hall. The choir sang music from five "
        "centuries, from a madrigal to a new piece written for us by a local composer, and the collection raised "
        "enough to repair the piano. Rehearsals start again in September on Tuesday evenings, and new voices are "
        "always welcome, especially tenors.",
    ),
    (
        "Why bread goes stale",
        "Stale bread is not simply dry bread. As it cools, the starch in the crumb slowly crystallises again and "
        "pushes water out, which makes the crumb firm and crumbly even in a sealed bag. Warming the bread melts "
        "those crystals for a while, which is why toast or a few minutes in the oven brings a day-old loaf back. "
        "The fridge makes staling faster, the freezer stops it.",
    ),
    (
        "Choosing a second-hand bicycle",
        "Look at the frame first: dents and cracks near the joints are a reason to walk away, while scratches are "
        "not. Spin the wheels to see whether they run true, squeeze the brakes, and shift through all the gears. "
        "Ask when the chain was last replaced. A bike that fits you matters more than a famous brand, so stand "
        "over the frame and make sure both feet reach the ground.",
    ),
]

# held out: a tutorial the seeds never saw, a tutorial whose code is laid out in paragraphs (no code markup), and a
# general page
UNSEEN_TUTORIAL = (
    "Reversing a string in Python",
    "python",
    "Slicing with a step of minus one walks a sequence backwards, so it reverses a string in one expression. "
    "The original string is not changed, because strings are immutable.",
    'def reverse(text):\n    return text[::-1]\n\nprint(reverse("stressed"))\n',
    "For a list, the reverse method works in place and returns None.",
)
PLAIN_CODE = (
    "Printing the even numbers of a list in Python",
    "To print the even numbers of a list, loop over it and test each number with the modulo operator: a number is "
    "even when the remainder of dividing it by two is zero. Here is the whole program:",
    [
        "def print_even(numbers):",
        "&nbsp;&nbsp;&nbsp;&nbsp;for n in numbers:",
        "&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;if n % 2 == 0:",
        "&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;print(n)",
        "print_even([3, 8, 12, 7])",
    ],
    "The function returns None, and the loop stops after the last number of the list.",
)
UNSEEN_GENERAL = (
    "Feeding birds in winter",
    "Birds need fat and seeds most in the coldest weeks, when insects are scarce and the days are short. Hang "
    "feeders near a hedge so small birds can dart into cover, clean them every fortnight, and put out fresh water "
    "when the pond freezes. Once you start feeding in winter, keep going until spring: the birds come to rely on "
    "it.",
)


def _chrome(site: str, title: str, main: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} | {site}</title>'
        f'</head><body><header><a href="/">{site}</a><nav><a href="/guides">Guides</a> <a href="/about">About</a>'
        f"</nav></header>\n<main><article><h1>{html.escape(title)}</h1>\n{main}\n</article></main>\n"
        f'<footer><p>&copy; 2025 {site}. <a href="/privacy">Privacy</a></p></footer></body></html>'
    )


def tutorial_page(title: str, lang: str, before: str, code: str, after: str) -> str:
    main = (
        f'<p>{html.escape(before)}</p>\n<pre><code class="language-{lang}">{html.escape(code)}</code></pre>\n'
        f"<p>{html.escape(after)}</p>"
    )
    return _chrome("Dev Notes", title, main)


def general_page(title: str, text: str) -> str:
    return _chrome("Hillside Community News", title, f"<p>{html.escape(text)}</p>")


def plain_code_page(title: str, before: str, lines: list[str], after: str) -> str:
    code = "<br>\n".join(line.replace("<", "&lt;") for line in lines)
    return _chrome("Dev Notes", title, f"<p>{html.escape(before)}</p>\n<p>{code}</p>\n<p>{html.escape(after)}</p>")


def write_warc(path: Path, pages: dict[str, str]) -> None:
    """One gzip member per response record, as Common Crawl writes them."""
    members = []
    for url, page in pages.items():
        body = page.encode()
        block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + body
        head = (
            f"WARC/1.1\r\nWARC-Type: response\r\nWARC-Target-URI: {url}\r\nWARC-Date: 2025-07-14T09:30:00Z\r\n"
            f"WARC-Record-ID: <urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, url)}>\r\n"
            f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(block)}\r\n\r\n"
        )
        members.append(gzip.compress(head.encode() + block + b"\r\n\r\n", mtime=0))
    path.write_bytes(b"".join(members))


def _slug(title: str) -> str:
    return "-".join(title.lower().split())


def _run(recipe: str, out: Path, *overrides: str) -> None:
    settings = [f"output={out}", "execution.report=false", "execution.executor=local", *overrides]
    run_recipe(load_recipe(str(REPO / "recipes" / recipe), settings))


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> tuple[Path, Path]:
    """The seed recipe's output over the sample plus the written pages, and the folder it lies in."""
    root = tmp_path_factory.mktemp("recall")
    pages = {f"https://devnotes.example/guides/{_slug(t[0])}": tutorial_page(*t) for t in TUTORIALS}
    pages |= {f"https://hillside-news.example/{_slug(t)}": general_page(t, x) for t, x in GENERAL}
    write_warc(root / "seed_pages.warc.gz", pages)
    _run("redstone-seeds.yaml", root / "seeds", f"input.paths=[{SAMPLE}, {root / 'seed_pages.warc.gz'}]")
    return root, root / "seeds" / "domain_seeds"


def test_seed_labels_from_markup(seeds):
    _, folder = seeds
    rows = read_parquet(str(folder)).to_pylist()
    by_url = {r["url"]: r for r in rows}
    for title, *_ in TUTORIALS:
        assert by_url[f"https://devnotes.example/guides/{_slug(title)}"]["seed_code"] == "positive"
    for title, _ in GENERAL:
        page = by_url[f"https://hillside-news.example/{_slug(title)}"]
        assert page["seed_code"] == page["seed_math"] == page["seed_qa"] == "negative"
    for title, *_ in TUTORIALS:  # code pages are negatives for the other kinds
        assert by_url[f"https://devnotes.example/guides/{_slug(title)}"]["seed_math"] == "negative"
    sample_qa = next(r for r in rows if r["url"].endswith("sort-by-two-keys"))
    assert sample_qa["seed_qa"] == "positive" and sample_qa["seed_code"] == "positive"
    math = next(r for r in rows if "geometric" in r["url"])  # one MathML block; its $…$ has no renderer to load
    assert math["seed_math"] is None and math["seed_code"] == "negative"  # weakly math: unsure; no code at all
    for page in ("pythagorean", "completing-the-square", "sample-variance"):  # KaTeX, MathJax 2, MathJax 3
        assert next(r for r in rows if page in r["url"])["seed_math"] == "positive"
    labels = [r["seed_code"] for r in rows]
    assert labels.count("positive") >= 10 and labels.count("negative") >= 15
    tutorial = by_url[f"https://devnotes.example/guides/{_slug(TUTORIALS[0][0])}"]
    assert "```python\nimport csv" in tutorial["text"] and "```" not in tutorial["seed_text"]
    assert "import csv" in tutorial["seed_text"]


def test_train_then_classify(seeds):
    root, folder = seeds
    model = root / "code-model"
    args = [*map(str, sorted(folder.glob("*.parquet"))), "-o", str(model), "--label-column", "seed_code"]
    args += ["--text-column", "seed_text"]
    args += ["--positive", "positive", "--negative", "negative", "--positive-name", "code", "--negative-name", "web"]
    args += ["--test-fraction", "0", "--threads", "1", "--epochs", "50", "--lr", "0.5", "--dim", "16"]
    args += ["--bucket", "20000", "--minn", "2", "--maxn", "4"]
    assert train_classifier(args) == 0 and (model / "model.bin").exists()

    held_out = root / "held_out.warc.gz"
    write_warc(
        held_out,
        {
            "https://devnotes.example/guides/reversing-a-string": tutorial_page(*UNSEEN_TUTORIAL),
            "https://devnotes.example/guides/even-numbers": plain_code_page(*PLAIN_CODE),
            "https://hillside-news.example/feeding-birds": general_page(*UNSEEN_GENERAL),
        },
    )
    _run(
        "redstone-recall.yaml",
        root / "recall",
        f"input.paths=[{held_out}]",
        f"steps.fasttext_classifier.model={model}",
        "steps.code_quality.min_prose_words=10",
    )
    scored = read_parquet(str(root / "recall" / "fasttext_classifier")).to_pylist()
    score = {r["url"].rsplit("/", 1)[-1]: r["code_score"] for r in scored}
    assert score["even-numbers"] > score["feeding-birds"] and score["reversing-a-string"] > score["feeding-birds"]
    tagged = {r["url"].rsplit("/", 1)[-1]: r for r in read_parquet(str(root / "recall" / "domain_detect")).to_pylist()}
    assert "reversing-a-string" in tagged and "feeding-birds" not in tagged
    # recalled by the classifier alone: no code markup on the page, so no tag; its words and symbols (character
    # n-grams: code tokens such as print(n) are rarely whole words of the seeds) score it above min_score
    assert tagged["even-numbers"]["is_code"] and tagged["even-numbers"]["code_blocks"] == 0
    steps = json.loads((root / "recall" / "_stats.json").read_text())["steps"]
    detect_stats = next(s["stats"] for s in steps if s["step"] == "domain_detect")
    assert detect_stats["counters"]["tagged_by_classifier"] == 1
