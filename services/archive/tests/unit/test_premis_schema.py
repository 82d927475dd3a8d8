"""The SIP's PREMIS file validates against the official PREMIS 3.0 schema shipped in the package's schemas/."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pytest
from lxml import etree
from socialops_archive.export.content import ExportContent
from socialops_archive.export.eark import write_sip

PREMIS = "http://www.loc.gov/premis/v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
METS = "http://www.loc.gov/METS/"
XLINK = "http://www.w3.org/1999/xlink"
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _content() -> ExportContent:
    return ExportContent(
        account_id="page-kultur", account_name="Kultur i Helsingborg", department="Kulturförvaltningen",
        period_from=datetime(2026, 3, 1, tzinfo=UTC), period_to=datetime(2026, 4, 1, tzinfo=UTC),
        items=[{"id": 1, "item_type": "comment", "versions": [{"text": "Varför är badhuset stängt?"}]}],
        snapshots=[("KS 2026/000123", b"%PDF-1.7 not really", b"\x89PNG not really")],
    )


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sip(_content(), "uuid-premis-test", tmp_path_factory.mktemp("sip"), now=AT)


def _premis_schema(package: Path) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(str(package / "schemas" / "premis.xsd"), parser))


def test_package_ships_the_official_premis_schema_unchanged(package: Path) -> None:
    shipped = package / "schemas" / "premis.xsd"
    source = resources.files("socialops_archive.export") / "schemas" / "premis.xsd"
    assert shipped.read_bytes() == source.read_bytes()
    schema_root = etree.parse(str(shipped)).getroot()
    assert schema_root.get("targetNamespace") == PREMIS
    assert "VERSION 3.0" in shipped.read_text(encoding="utf-8")
    # It is listed in the root METS like the other schemas.
    mets = etree.parse(str(package / "METS.xml"))
    hrefs = mets.xpath("//mets:fileGrp[@USE='Schemas']/mets:file/mets:FLocat/@xlink:href",
                       namespaces={"mets": METS, "xlink": XLINK})
    assert "schemas/premis.xsd" in hrefs


def test_premis_points_at_the_packaged_schema(package: Path) -> None:
    premis_path = package / "metadata" / "preservation" / "premis.xml"
    location = etree.parse(str(premis_path)).getroot().get(f"{{{XSI}}}schemaLocation")
    namespace, relative = location.split()
    assert namespace == PREMIS
    assert relative == "../../schemas/premis.xsd"
    assert (premis_path.parent / relative).resolve() == (package / "schemas" / "premis.xsd").resolve()


def test_premis_validates_against_the_packaged_schema(package: Path) -> None:
    schema = _premis_schema(package)
    premis = etree.parse(str(package / "metadata" / "preservation" / "premis.xml"))
    assert schema.validate(premis), schema.error_log
    root = premis.getroot()
    objects = root.findall(f"{{{PREMIS}}}object")
    # Every file of the package but premis.xml itself and the root METS, each with SHA-256 fixity.
    listed = {o.findtext(f"{{{PREMIS}}}objectIdentifier/{{{PREMIS}}}objectIdentifierValue") for o in objects}
    assert "schemas/premis.xsd" in listed and "representations/rep1/data/items.json" in listed
    assert all(o.findtext(f".//{{{PREMIS}}}messageDigestAlgorithm") == "SHA-256" for o in objects)
    assert root.find(f"{{{PREMIS}}}event") is not None and root.find(f"{{{PREMIS}}}agent") is not None


def _broken(tree: etree._ElementTree, how: str) -> etree._ElementTree:
    broken = copy.deepcopy(tree)
    root = broken.getroot()
    first = root.find(f"{{{PREMIS}}}object")
    if how == "version":
        root.set("version", "2.2")
    elif how == "order":  # size must come after fixity in objectCharacteristics
        characteristics = first.find(f"{{{PREMIS}}}objectCharacteristics")
        characteristics.insert(0, characteristics.find(f"{{{PREMIS}}}size"))
    elif how == "missing-digest":
        fixity = first.find(f".//{{{PREMIS}}}fixity")
        fixity.remove(fixity.find(f"{{{PREMIS}}}messageDigest"))
    elif how == "abstract-object":  # an object without xsi:type has the abstract objectComplexType
        del first.attrib[f"{{{XSI}}}type"]
    elif how == "bad-size":
        first.find(f".//{{{PREMIS}}}size").text = "many"
    elif how == "unknown-element":
        etree.SubElement(root.find(f"{{{PREMIS}}}agent"), f"{{{PREMIS}}}agentMood").text = "happy"
    elif how == "no-objects":
        for obj in root.findall(f"{{{PREMIS}}}object"):
            root.remove(obj)
    return broken


@pytest.mark.parametrize("how", ["version", "order", "missing-digest", "abstract-object", "bad-size",
                                 "unknown-element", "no-objects"])
def test_a_broken_premis_fails_validation(package: Path, how: str) -> None:
    schema = _premis_schema(package)
    premis = etree.parse(str(package / "metadata" / "preservation" / "premis.xml"))
    assert schema.validate(premis)
    assert not schema.validate(_broken(premis, how))
