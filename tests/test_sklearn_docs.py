"""The README's fastmlp.sklearn snippet runs as written and beats chance by far."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("sklearn", reason="the sklearn extra is not installed")

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_sklearn_snippet_runs_as_written(capsys):
    section = README.read_text(encoding="utf-8").split("## scikit-learn drop-in", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, "the scikit-learn section has no python code block"
    snippet = found.group(1)
    assert "from fastmlp.sklearn import MLPClassifier" in snippet
    namespace: dict = {}
    exec(compile(snippet, "README.md scikit-learn snippet", "exec"), namespace)
    accuracy = float(capsys.readouterr().out.split("test accuracy")[1])
    assert accuracy > 0.7  # three classes: chance is 1/3
    assert type(namespace["model"]).__module__ == "fastmlp.sklearn._estimators"
