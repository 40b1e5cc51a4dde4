"""The shared look of the management pages (static/app.css) on a phone and in both themes.

Every page is opened 390 px wide, light and dark: the page itself must never scroll sideways
(wide tables scroll inside their wrapper instead), every nav entry must be on screen (the nav
wraps), and the theme's text colours must keep a WCAG AA contrast (4.5:1) against the page and
card backgrounds. Screenshots land in var/screenshots/phone-<page>-<theme>.png for review.

The app is the full one (``ui=True``) on the package's seed: accounts, orders, customers, sync
runs and jobs, signed in as its admin.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import pytest
from playwright.sync_api import Page, expect

from kaufland_sync.store.db import transaction
from tests.browser.conftest import (
    NOW,
    PASSWORD,
    USER,
    PageOptions,
    Screenshot,
    Site,
    Sites,
    seed,
    sign_in,
)

#: The pages checked: (screenshot name, path).
PAGES = [
    ("products", "/products"),
    ("orders", "/orders"),
    ("customers", "/customers"),
    ("returns", "/returns"),
    ("queue", "/queue"),
    ("logs", "/logs"),
    ("performance", "/performance"),
    ("commission", "/commission"),
    ("accounts", "/accounts"),
    ("account", "/accounts/shop"),
    ("settings", "/settings"),
]

#: Text colours (custom properties of app.css) and the backgrounds they are drawn on.
TEXT_COLOURS = ["--text", "--muted", "--link", "--good", "--bad", "--warn", "--info"]
BACKGROUNDS = ["--bg", "--surface"]

# Reads a custom property's colour as the browser resolves it, and the WCAG contrast ratio of
# two such colours.
CONTRAST_JS = """
([colours, backgrounds]) => {
  const probe = document.createElement("span");
  document.body.appendChild(probe);
  const rgb = (name) => {
    probe.style.color = `var(${name})`;
    return getComputedStyle(probe).color.match(/[\\d.]+/g).slice(0, 3).map(Number);
  };
  const luminance = (channels) => {
    const [r, g, b] = channels.map((c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratios = {};
  for (const fg of colours) {
    for (const bg of backgrounds) {
      const [a, b] = [luminance(rgb(fg)), luminance(rgb(bg))].sort((x, y) => y - x);
      ratios[`${fg} on ${bg}`] = (a + 0.05) / (b + 0.05);
    }
  }
  probe.remove();
  return ratios;
}
"""


# The innermost elements that reach past the screen's right edge (to name them in a failure).
WIDEST_JS = """
() => {
  const edge = document.documentElement.clientWidth;
  const out = [...document.querySelectorAll("main *")].filter(
    (e) => e.getBoundingClientRect().right > edge + 0.5 && e.children.length === 0
  );
  return out.slice(0, 5).map((e) => `${e.tagName.toLowerCase()}.${e.className}#${e.id}`);
}
"""


@pytest.fixture(scope="module")
def site(sites: Sites) -> Iterator[Site]:
    with sites.open("layout", clock=lambda: NOW) as opened:
        with transaction(opened.factory) as session:
            seed(session)
        with opened.serve() as served:
            yield served


@pytest.fixture(scope="module")
def page_options() -> PageOptions:
    return PageOptions(width=390, height=844)


@pytest.fixture
def page(page: Page) -> Page:
    sign_in(page, USER, PASSWORD)
    return page


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize(("name", "path"), PAGES, ids=[name for name, _ in PAGES])
def test_a_page_fits_a_phone_in_both_themes(
    page: Page, screenshot: Screenshot, name: str, path: str, theme: Literal["light", "dark"]
) -> None:
    page.emulate_media(color_scheme=theme)
    page.goto(path)
    expect(page.locator("html")).to_have_attribute("data-theme", theme)
    expect(page.locator("main h1").first).to_be_visible()
    screenshot(page, f"phone-{name}-{theme}")

    # No sideways scrolling of the page itself: what is wider scrolls inside its own box.
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    wide = page.evaluate(WIDEST_JS) if widths[0] > widths[1] else []
    assert widths[0] <= widths[1], (
        f"{path} ({theme}) is {widths[0]} px wide on a {widths[1]} px screen: {wide}"
    )

    # The nav wraps: every entry lies within the screen's width.
    for box in page.locator("nav.site-nav li").evaluate_all(
        "items => items.map(item => item.getBoundingClientRect().right)"
    ):
        assert box <= widths[1], f"a nav entry of {path} ({theme}) ends at {box} px"

    ratios = page.evaluate(CONTRAST_JS, [TEXT_COLOURS, BACKGROUNDS])
    low = {pair: round(ratio, 2) for pair, ratio in ratios.items() if ratio < 4.5}
    assert low == {}, f"text below 4.5:1 contrast in the {theme} theme: {low}"
