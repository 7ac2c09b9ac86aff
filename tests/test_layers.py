"""The house's rules, checked: imports only go down a layer (import-linter's contracts in
pyproject.toml, lazy and TYPE_CHECKING imports included), and files and functions stay short."""

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "src" / "sgns"
MAX_FILE_LINES, MAX_FUNCTION_LINES = 450, 80


def _lint_imports(src: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(src)}
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_every_layer_imports_only_the_layers_below_it():
    done = _lint_imports(ROOT / "src")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_a_lazy_upward_import_breaks_the_contract(tmp_path):
    """The contract is not vacuous: a copy of the package whose config imports the command line
    inside a function (a lazy import, as the old cycles were) fails it."""
    shutil.copytree(SOURCES, tmp_path / "sgns", ignore=shutil.ignore_patterns("__pycache__"))
    config = tmp_path / "sgns" / "config.py"
    config.write_text(config.read_text() + "\n\ndef _upward():\n    from sgns.cli import main\n"
                      "\n    return main\n")
    done = _lint_imports(tmp_path)
    assert done.returncode != 0
    assert "sgns.config -> sgns.cli" in done.stdout, done.stdout[-3000:]


def _exceptions() -> set[str]:
    """Functions over the limit that docs/architecture.md names, as ``path:function``."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    return {line.split("`")[1] for line in text.splitlines()
            if line.startswith("- `") and ":" in line.split("`")[1]}


def test_files_and_functions_stay_short():
    allowed = _exceptions()
    too_long = []
    for path in sorted(SOURCES.rglob("*.py")):
        text = path.read_text()
        name = str(path.relative_to(SOURCES.parent))
        if len(text.splitlines()) > MAX_FILE_LINES:
            too_long.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES and f"{name}:{node.name}" not in allowed:
                    too_long.append(f"{name}:{node.name}: {lines} lines")
    assert not too_long, too_long
