"""Mail speaks the recipient's language. (Completeness and freshness of the mail app's
catalogue are checked with every other catalogue, in tests/web/test_translations.py.)"""

from __future__ import annotations

from django.utils import translation

from casedesk.mail.outbound import texts


def test_mail_speaks_the_recipients_language():
    with translation.override("cs"):
        assert texts.greeting("Jana") == "Dobrý den, Jana,"
    with translation.override("da"):
        assert texts.headline("your_turn", key="TMS-1", status="Afventer") == (
            "TMS-1 venter på dig: Afventer."
        )
