"""The recipes shipped with curate (installed as ``curate.recipes``): ``curate recipes`` lists them and
``curate run NAME`` runs one by name; relative paths inside a shipped recipe (the sample WARC, the tokenizer) are
found beside the installed package."""
