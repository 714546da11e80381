"""bench/gpu_proof.py falls back cleanly without a GPU: ``--cpu-smoke`` runs the CPU parts at toy sizes, says what it
skipped and why, and its RESULT line carries no GPU figure (the GPU run itself is documented in the README)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "gpu_proof.py"


def test_gpu_proof_cpu_smoke_skips_gpu_parts_and_reports_cpu_figures(capsys, tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    spec = importlib.util.spec_from_file_location("gpu_proof", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "gpu_proof", module)  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    assert module.main(["--cpu-smoke", "--workdir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = dict(kv.split("=", 1) for kv in lines[-1].split()[2:])
    assert lines[-1].startswith("RESULT gpu_proof classifier_docs_s=")
    assert float(result["cpu_classifier_docs_s"]) > 0 and float(result["cpu_embed_docs_s"]) > 0
    assert float(result["cpu_transformers_tokens_s"]) > 0  # the LM folder vLLM would load generates
    assert list(tmp_path.iterdir()) == []  # the models it built are gone
    if not torch.cuda.is_available():
        assert set(module.FIGURES) >= {"classifier_docs_s", "embed_docs_s", "vllm_tokens_s", "server_tokens_s"}
        for key in module.FIGURES:
            assert result[key] == "skipped", key
        assert result["device"] == "cpu" and "gpu_peak_gib" not in result
        assert {"classifier_gpu", "embed_gpu", "transformers_gpu", "vllm_offline", "vllm_serve"} <= set(
            result["skipped"].split(",")
        )
        assert "SKIP classifier_gpu: no CUDA device" in "\n".join(lines)
