"""`pip install .` gives a working tool: every library genlat and analysis import is declared in
pyproject.toml (and pinned in requirements.txt), so a fresh install has what `genlat sweep` and
`genlat report` need. (CI also installs the package into a fresh venv: .ci/fresh-install.)"""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions

import tomllib

from tests.helpers import ROOT


def _imported_modules() -> set[str]:
    names = set()
    for path in [ROOT / "train.py", *(ROOT / "genlat").rglob("*.py"), *(ROOT / "analysis").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"genlat", "analysis", "__future__"}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return {_canonical(re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0]) for d in deps}


def test_every_imported_library_is_declared_and_pinned():
    owners = packages_distributions()
    pinned = {
        _canonical(line.split("==")[0])
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    missing, unpinned = [], []
    for module in sorted(_imported_modules()):
        dists = {_canonical(d) for d in owners.get(module, [module])}
        if not dists & _declared():
            missing.append(f"{module} ({'/'.join(sorted(dists))})")
        if not dists & pinned:
            unpinned.append(module)
    assert not missing, f"imported but not in pyproject.toml's dependencies: {missing}"
    assert not unpinned, f"imported but not pinned in requirements.txt: {unpinned}"
