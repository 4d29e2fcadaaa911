"""Real pages in headless Chromium with JavaScript off: an anonymous submission with a file, two languages.

Uses Debian's `chromium` through Playwright. Without it the test is skipped
locally and FAILS under CI=true. Screenshots go to `tests/artifacts/web/`.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, text

from svidok.services.keys import Protection
from svidok.store.register import table_of
from tests.web.conftest import ARTIFACTS, JPEG


def _submit(page, base: str, lang_link: str | None, photo: Path, shot: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    page.goto(base + "/")
    if lang_link:
        page.click(f"nav.langs a[hreflang={lang_link}]")
    page.fill("#what_happened", 'Нас затрымалі ля метро <b>"Пушкінская"</b> <script>alert(1)</script>')
    page.fill("input[name=when_date]", "2020-08-11")
    page.select_option("select[name=when_precision]", "day")
    page.fill("#place_text", "Мінск, вул. Акрэсціна")
    page.fill("input[name=perp_1_badge]", "0421")
    page.fill("input[name=perp_1_unit]", "АМАП")
    page.check("input[name=injuries][value=bruising]")
    page.check("input[name=urgent][value=ongoing_detention]")
    page.set_input_files("#files", str(photo))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{shot}-form.png"), full_page=True)
    page.click("button[type=submit]")
    page.wait_for_selector("#receipt-code")
    page.screenshot(path=str(ARTIFACTS / f"{shot}-receipt.png"), full_page=True)
    return page.inner_text("#receipt-code"), page.inner_text("#receipt-passphrase")


def test_anonymous_submission_with_a_file_in_two_languages_without_javascript(
    server: str,
    browser,
    protection: Protection,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    photo = tmp_path / "затрыманне.jpg"
    photo.write_bytes(JPEG)
    context = browser.new_context(java_script_enabled=False, locale="uk-UA")  # type: ignore[attr-defined]
    page = context.new_page()
    alerts: list[str] = []
    page.on("dialog", lambda d: alerts.append(d.message))
    page.goto(server + "/")
    assert page.get_attribute("html", "lang") == "uk"
    code_uk, _ = _submit(page, server, None, photo, "uk")
    assert "Дякуємо" in page.inner_text("h1")
    code_be, passphrase_be = _submit(page, server, "be", photo, "be")
    assert page.get_attribute("html", "lang") == "be" and "Дзякуй" in page.inner_text("h1")
    assert code_uk != code_be
    # come back with the receipt and add a file
    page.click("main a[href^='/add']")
    page.fill("input[name=code]", code_be)
    page.fill("input[name=passphrase]", passphrase_be)
    page.fill("#text", "Яшчэ адно фота")
    page.set_input_files("input[name=files]", str(photo))
    page.click("button[type=submit]")
    page.wait_for_selector("h1")
    page.screenshot(path=str(ARTIFACTS / "be-added.png"), full_page=True)
    assert "дададзена" in page.inner_text("h1")
    assert alerts == []
    with protection.store.read() as conn:
        langs = sorted(r[0] for r in conn.execute(text("SELECT language FROM submission")))
        files = conn.execute(text("SELECT count(*), count(DISTINCT sha256) FROM evidence")).one()
        source = table_of("source")  # through the column type: the text is sealed under its subject key
        stored = conn.execute(select(source.c.text).order_by(source.c.received_at)).scalars().first()
    assert langs == ["be", "uk"] and tuple(files) == (3, 1)
    assert "<script>alert(1)</script>" in stored  # kept verbatim, shown escaped
    context.close()
