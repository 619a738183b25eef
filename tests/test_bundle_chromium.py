"""The page `mmthink view` renders, opened in headless Chromium: it loads every step and medium from
its own folder with no console error, and a bundle's own scripted page is never what opens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_viewer_chromium import CHROMIUM, MEDIA_STATE, DevTools, bundle  # noqa: F401  (bundle is a fixture)

from mmthink.trace.reader import load_trace
from mmthink.trace.view import view_bundle

pytestmark = pytest.mark.chromium


@pytest.fixture(scope="module")
def view_page(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:  # noqa: F811
    if not CHROMIUM:
        pytest.skip("chromium is not on PATH (tools/install_chromium.sh installs it)")
    (bundle / "index.html").write_text("<script>window.__pwned = 1</script>", encoding="utf-8")
    page = view_bundle(bundle, home=tmp_path_factory.mktemp("views"))
    dt = DevTools(CHROMIUM, tmp_path_factory.mktemp("chromium-profile"))
    try:
        dt.open(page.resolve().as_uri())
        yield dt, page
    finally:
        dt.close()


def test_the_view_page_loads_everything_with_no_console_error(view_page: Any, bundle: Path) -> None:  # noqa: F811
    dt, page = view_page
    assert bundle.resolve() not in page.resolve().parents
    state = dt.eval(MEDIA_STATE)
    trace = load_trace(bundle)
    assert [s["index"] for s in state["steps"]] == [str(i) for i in range(len(trace.steps))]
    assert len(state["images"]) == 7 and all(i["w"] == 96 for i in state["images"]), state["images"]
    assert sorted(m["tag"] for m in state["media"]) == ["audio", "video", "video"]
    assert all(m["error"] == 0 and m["ready"] >= 1 and m["duration"] > 0 for m in state["media"]), state["media"]
    assert state["scripts"] == 2 and not state["pwned"]
    assert (
        dt.eval(
            "document.querySelector('[data-filter=\"draft\"]').click(); "
            "[...document.querySelectorAll('.step')].filter(e => !e.hidden).length"
        )
        == 4
    )
    assert dt.errors() == []
