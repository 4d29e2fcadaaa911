"""Operators' pages in headless Chromium with JavaScript off: a family's report of a missing person is
structured by an operator (with the linking engine's suggestions beside the form) and matched to a
custody record; a reviewer confirms a machine link; an investigator opens an incident with its evidence.

Screenshots go to `tests/artifacts/web/`. Without Chromium these tests skip locally and FAIL under CI=true.
"""

from __future__ import annotations

from typing import Any

from tests.web.conftest import ARTIFACTS, People


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _page(browser: Any) -> Any:
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    page.on("dialog", lambda d: (_ for _ in ()).throw(AssertionError(f"a dialog ran: {d.message}")))
    return page


def _sign_in(page: Any, base: str, people: People, name: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", people.enrolled[name].password)
    page.fill("input[name=code]", people.code(name))
    page.click("main button[type=submit]")
    page.wait_for_selector("nav.ops")
    assert page.url.endswith("/home"), page.url


def test_a_family_report_is_structured_and_matched_to_a_custody_record(
    server: str, browser: Any, linked: People
) -> None:
    people = linked
    family = _page(browser)
    family.goto(server + "/?lang=ru")
    family.fill(
        "#what_happened", "Моего брата Александра Ковалёва задержали у площади, с тех пор мы его не видели."
    )
    family.fill("input[name=when_date]", "2020-08-10")
    family.fill("input[name=when_time]", "18:40")
    family.fill("#place_text", "Площадь Свободы")
    family.fill("input[name=victim_1_name]", "Кавалёў Аляксандр")
    family.fill("input[name=perp_1_name]", "Савицкий Д.")
    family.fill("input[name=perp_1_badge]", "0427")
    family.check("input[name=urgent][value=missing_person]")
    family.click("main button[type=submit]")
    family.wait_for_selector("#receipt-code")
    _shot(family, "family-receipt")

    people.add("op", "intake_operator", ("case-a", "intake"), identity=("case-a", "intake"))
    operator = _page(browser)
    _sign_in(operator, server, people, "op")
    operator.click("nav.ops a[href='/intake']")
    operator.click("a[href='/intake?everyone=true']")
    operator.click("#queue a[href^='/intake/sb_']")
    operator.click("#structure-link")
    operator.wait_for_selector("#suggestions")
    assert "Савицкий Д." in operator.inner_text("#suggestions")
    assert "Дзмітрый Савіцкі" in operator.inner_text("#suggestions")  # the engine's candidate for the officer
    operator.select_option("select[name=compartment]", "case-a")
    operator.fill("input[name=title]", "Detention at Freedom Square, 10 August")
    operator.select_option("select[name=place]", "pl_asquare")
    operator.select_option("select[name=act_1_violation]", "arbitrary_detention")
    operator.select_option("select[name=act_1_victim]", label="Кавалёў Аляксандр (Victim)")
    operator.fill("input[name=missing_name]", "Кавалёў Аляксандр")
    operator.fill("input[name=missing_seen_date]", "2020-08-10")
    operator.fill("input[name=missing_seen_time]", "18:40")
    _shot(operator, "operator-structuring")
    operator.click("#structure button[type=submit]")
    operator.wait_for_selector("#incident-title")
    assert "Detention at Freedom Square" in operator.inner_text("#incident-title")
    _shot(operator, "operator-structured-incident")

    people.add("ina", "investigator", ("case-a",), identity=("case-a",))
    investigator = _page(browser)
    _sign_in(investigator, server, people, "ina")
    investigator.click("nav.ops a[href='/missing']")
    investigator.click("#cases a:text('Кавалёў Аляксандр') >> nth=0")
    investigator.wait_for_selector("#candidates")
    rows = investigator.inner_text("#candidates")
    assert "КОВАЛЁВ А.С." in rows  # the custody record at the detention centre
    _shot(investigator, "missing-case-matched")
    investigator.click("#candidates tr:has-text('КОВАЛЁВ') button[value=confirm]")
    investigator.wait_for_selector("#candidates")
    assert "confirmed" in investigator.inner_text("#candidates tr:has-text('КОВАЛЁВ')")
    _shot(investigator, "missing-case-confirmed")


def test_a_reviewer_confirms_a_link(server: str, browser: Any, people: People) -> None:
    people.add("ana", "analyst")
    page = _page(browser)
    _sign_in(page, server, people, "ana")
    page.click("nav.ops a[href='/review']")
    page.wait_for_selector("#links")
    row = page.locator("#li_1")
    assert "surname" in row.inner_text()
    _shot(page, "review-queue")
    row.locator("button[value=confirm]").click()
    page.wait_for_selector("#links")
    assert page.locator("#li_1").count() == 0
    page.goto(server + "/review?status=confirmed&kind=mention_person")
    assert "ana" in page.inner_text("#li_1") or page.locator("#li_1").count() == 1
    _shot(page, "review-confirmed")


def test_an_investigator_opens_an_incident_with_its_evidence(
    server: str, browser: Any, people: People
) -> None:
    people.add("ina", "investigator")
    page = _page(browser)
    _sign_in(page, server, people, "ina")
    page.click("nav.ops a[href='/incidents']")
    page.select_option("select[name=violation]", "torture")
    page.click("form.filters button[type=submit]")
    page.click("#results a[href='/incidents/in_1']")
    page.wait_for_selector("#evidence")
    evidence = page.inner_text("#evidence")
    assert "ev_1" in evidence and "2020-08-10 18:35" in evidence and "metadata" in evidence
    assert "Suspect candidates" in page.inner_text("#acts")
    assert "B2" in page.inner_text("#sources")
    _shot(page, "investigator-incident")
