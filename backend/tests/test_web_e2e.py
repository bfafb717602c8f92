"""The web app end to end in a real browser (Debian's chromium driven by playwright-core):
sign in, upload two files and watch them become ready live, see a failed upload's reason,
filter the library by type and sort it by name both ways, search and open a hit, chat with a
streamed answer and a working citation, create, share and unshare a collection, open the label
review page, open an image with its thumbnail, object labels and similar images, delete a
document and see it leave another session's library live.
Screenshots of every page go to test-artifacts/web/; axe-core checks every main page.

Needs the built app (npm run build), its node_modules and /usr/bin/chromium; ./run_tests.sh
provides them (and .ci/run installs chromium), otherwise this test is skipped with the reason.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from skimage import data

from tests.auth_fixtures import create_test_user
from tests.conftest import make_pdf

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "frontend" / "react-app"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts" / "web"


def _missing() -> str | None:
    if not shutil.which("node"):
        return "node is not installed"
    if not (APP / "dist" / "index.html").is_file():
        return "the web app is not built (cd frontend/react-app && npm ci && npm run build)"
    if not (APP / "node_modules" / "playwright-core").is_dir():
        return "frontend/react-app/node_modules is missing (npm ci)"
    if not Path(CHROMIUM).is_file():
        return f"no chromium at {CHROMIUM} (apt-get install chromium)"
    return None


def test_web_app_end_to_end_in_chromium(api_url: str, tmp_path: Path) -> None:
    reason = _missing()
    if reason:
        pytest.skip(f"browser tests skipped: {reason}")
    user, friend = create_test_user(), create_test_user()
    (tmp_path / "basalt.pdf").write_bytes(make_pdf(
        ["Basalt columns form when thick lava cools slowly and contracts into hexagonal joints."]))
    (tmp_path / "granite.pdf").write_bytes(make_pdf(
        ["Granite is an intrusive igneous rock with coarse grains of quartz and feldspar."]))
    (tmp_path / "empty.pdf").write_bytes(make_pdf([""]))
    (tmp_path / "dot.png").write_bytes(base64.b64decode(  # a 1x1 PNG, for search by image
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="))
    (tmp_path / "notes.txt").write_text("Field notes: slate splits along its cleavage planes.\n")
    cat = Image.fromarray(data.chelsea()).resize((225, 150))  # a real photograph of a cat
    cat.save(tmp_path / "cat.png")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["node", "e2e/run.mjs", api_url, user.email, user.password, str(tmp_path),
         str(ARTIFACTS), friend.email],
        cwd=APP, capture_output=True, text=True, timeout=420, check=False,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, f"no result\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    result = json.loads(lines[-1][len("RESULT "):])
    (ARTIFACTS / "result.json").write_text(json.dumps(result, indent=2))
    assert result["ok"], f"{result.get('error')}\n{proc.stdout}\n{proc.stderr}"
    assert "empty.pdf" not in result["reason"] and result["reason"].strip(": "), result
    bad = {page: [v for v in found if v["impact"] in ("serious", "critical")]
           for page, found in result["axe"].items()}
    assert not any(bad.values()), f"axe serious/critical violations: {bad}"
    assert len(result["shots"]) == 13
    assert not result["consoleErrors"], result["consoleErrors"]
