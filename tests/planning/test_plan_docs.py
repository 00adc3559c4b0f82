"""docs/economics.md prints the pairing catalog the code uses, with its sources."""

from models.planning.pairing import markdown_table
from tests_support import REPO_ROOT


def test_economics_doc_has_the_pairing_catalog():
    text = (REPO_ROOT / "docs" / "economics.md").read_text()
    start, end = text.index("<!-- pairing-catalog -->\n"), text.index("<!-- /pairing-catalog -->")
    assert text[start + len("<!-- pairing-catalog -->\n"):end].strip() == markdown_table().strip()


def test_dashboard_doc_describes_the_plan_and_the_counterfactual():
    text = (REPO_ROOT / "docs" / "dashboard.md").read_text()
    for phrase in ("default pairing, not chosen", "on tokens alone", "Measured beside assumed", "The plan"):
        assert phrase in text
