"""``/audit`` in headless Chromium: an administrator filters the trail and verifies it.

Each page on the way (the trail, the filtered trail, a refused filter, the
verification) goes through axe-core with the rules of tests/web/test_accessibility.py.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from natalizumab_cds.application.security.permissions import Role
from tests.web.conftest import USERS, sign_in_page
from tests.web.test_accessibility import violations

pytestmark = pytest.mark.browser
ADMIN = USERS[Role.ADMINISTRATOR]


def test_an_administrator_filters_and_verifies_the_trail_with_no_violations(page: Any) -> None:
    sign_in_page(page, Role.ADMINISTRATOR, next_="/audit")
    records = page.locator("#audit-records tbody tr")
    assert records.count() > 0
    assert violations(page) == []

    page.get_by_label("User", exact=True).fill(ADMIN)
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r".*/audit\?.*user=web-administrator"))
    users = page.locator("#audit-records td[data-label='User']").all_inner_texts()
    assert users
    assert all(text.split()[0] == ADMIN for text in users)
    assert page.get_by_label("User", exact=True).input_value() == ADMIN
    assert violations(page) == []

    page.get_by_label("From", exact=True).fill("2026-11-25")
    page.get_by_label("To", exact=True).fill("2026-11-24")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r".*/audit\?.*to=2026-11-24"))
    assert page.locator("#to-error").inner_text().endswith("nothing is between.")
    assert violations(page) == []  # the refusal beside its field

    page.get_by_role("button", name="Verify the chain").click()
    page.wait_for_url(re.compile(r".*/audit/verify\??$"))
    result = page.get_by_role("status")
    assert result.inner_text().startswith("The chain is intact:")
    assert violations(page) == []
