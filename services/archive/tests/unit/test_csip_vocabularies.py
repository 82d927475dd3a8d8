"""The values the export writes into METS are terms of the CSIP vocabularies shipped with it."""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree
from socialops_archive.export import VOCABULARIES
from socialops_archive.export.content import ExportContent
from socialops_archive.export.eark import write_sip

VOCABULARY = "{https://DILCIS.eu/XML/Vocabularies/IP}"
METS = "{http://www.loc.gov/METS/}"
CSIP = "{https://DILCIS.eu/XML/METS/CSIPExtensionMETS}"


def terms_of(name: str) -> set[str]:
    tree = etree.parse(str(VOCABULARIES / f"CSIPVocabulary{name}.xml"))
    return {term.text for term in tree.iter(f"{VOCABULARY}Term")}


def test_the_four_vocabularies_the_validator_looks_up_ship_with_their_origin() -> None:
    names = sorted(path.name for path in VOCABULARIES.glob("*.xml"))
    assert names == [
        "CSIPVocabularyContentCategory.xml", "CSIPVocabularyContentInformationType.xml",
        "CSIPVocabularyOAISPackageType.xml", "CSIPVocabularyStatus.xml",
    ]
    provenance = (VOCABULARIES / "README.md").read_text(encoding="utf-8")
    assert "DILCIS Board" in provenance and "CC BY 4.0" in provenance


def test_every_vocabulary_value_the_export_writes_is_a_term(tmp_path) -> None:
    content = ExportContent(
        account_id="page-kultur", account_name="Kultur i Helsingborg", department="Kulturförvaltningen",
        period_from=datetime(2026, 3, 1, tzinfo=UTC), period_to=datetime(2026, 4, 1, tzinfo=UTC),
        items=[{"id": 1, "item_type": "comment", "versions": [{"text": "Varför är badhuset stängt?"}]}],
        snapshots=[],
    )
    package = write_sip(content, "uuid-vocabulary-test", tmp_path, now=datetime(2026, 4, 2, tzinfo=UTC))
    documents = [etree.parse(str(path)) for path in package.rglob("METS.xml")]
    assert len(documents) >= 2  # the root METS and the representation's
    written: dict[str, set[str]] = {"ContentCategory": set(), "ContentInformationType": set(),
                                    "OAISPackageType": set(), "Status": set()}
    for document in documents:
        root = document.getroot()
        written["ContentCategory"].add(root.get("TYPE"))
        written["ContentInformationType"].add(root.get(f"{CSIP}CONTENTINFORMATIONTYPE"))
        for header in root.iter(f"{METS}metsHdr"):
            written["OAISPackageType"].add(header.get(f"{CSIP}OAISPACKAGETYPE"))
        for element in root.iter():
            if element.get("STATUS") is not None:
                written["Status"].add(element.get("STATUS"))
    for vocabulary, values in written.items():
        values.discard(None)
        assert values, f"the package writes no {vocabulary} value"
        assert values <= terms_of(vocabulary), (vocabulary, values - terms_of(vocabulary))
