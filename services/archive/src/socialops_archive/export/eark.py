"""Write an E-ARK SIP 2.1.0 package (FGS Paketstruktur 2.0 = CSIP 2.1.0 + SIP 2.1.0) and zip it.

Layout (one root folder named by the package id):

    <id>/METS.xml                         root METS: metsHdr, amdSec → PREMIS, fileSec, CSIP structMap
    <id>/metadata/preservation/premis.xml PREMIS 3: one object per file with SHA-256 fixity, events
    <id>/representations/rep1/METS.xml    representation METS
    <id>/representations/rep1/data/       account.json, items.json, snapshots/<number>.pdf|png
    <id>/schemas/                         the XSDs the METS and PREMIS files use
    <id>/documentation/README.txt         what the package holds, in Swedish and English

Every file entry carries SIZE, CREATED, CHECKSUM (SHA-256) and CHECKSUMTYPE.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from lxml import etree

from .content import ExportContent

METS = "http://www.loc.gov/METS/"
CSIP = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"
SIP = "https://DILCIS.eu/XML/METS/SIPExtensionMETS"
XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
PREMIS = "http://www.loc.gov/premis/v3"
NSMAP = {"mets": METS, "csip": CSIP, "sip": SIP, "xlink": XLINK, "xsi": XSI}
SIP_PROFILE = "https://earksip.dilcis.eu/profile/E-ARK-SIP.xml"
SCHEMA_LOCATION = (
    f"{METS} schemas/mets.xsd {XLINK} schemas/xlink.xsd {CSIP} schemas/DILCISExtensionMETS.xsd"
    f" {SIP} schemas/DILCISExtensionSIPMETS.xsd"
)
# premis.xml sits in metadata/preservation/; the official PREMIS 3.0 schema is shipped in schemas/.
PREMIS_SCHEMA_LOCATION = f"{PREMIS} ../../schemas/premis.xsd"
SOFTWARE = "socialops-archive"
SOFTWARE_VERSION = "0.1.0"
CONTENT_CATEGORY_OTHER = "Social media records"
CONTENT_INFORMATION_OTHER = "socialops-archive-json-v1"


def _m(tag: str) -> str:
    return f"{{{METS}}}{tag}"


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class PackedFile:
    path: str  # relative to the METS file that lists it
    size: int
    sha256: str
    mimetype: str
    created: str


def _describe(base: Path, file: Path, created: str) -> PackedFile:
    data = file.read_bytes()
    mimetype = {".json": "application/json", ".xsd": "application/xml", ".xml": "application/xml",
                ".txt": "text/plain"}.get(file.suffix) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    return PackedFile(file.relative_to(base).as_posix(), len(data), hashlib.sha256(data).hexdigest(), mimetype, created)


def _file_group(parent: etree._Element, group_id: str, use: str) -> etree._Element:
    return etree.SubElement(parent, _m("fileGrp"), ID=group_id, USE=use, attrib={
        f"{{{CSIP}}}CONTENTINFORMATIONTYPE": "OTHER",
        f"{{{CSIP}}}OTHERCONTENTINFORMATIONTYPE": CONTENT_INFORMATION_OTHER})


def _file_element(parent: etree._Element, file_id: str, f: PackedFile) -> None:
    element = etree.SubElement(
        parent, _m("file"), ID=file_id, MIMETYPE=f.mimetype, SIZE=str(f.size), CREATED=f.created,
        CHECKSUM=f.sha256, CHECKSUMTYPE="SHA-256",
    )
    etree.SubElement(element, _m("FLocat"), LOCTYPE="URL", attrib={f"{{{XLINK}}}type": "simple",
                                                                  f"{{{XLINK}}}href": f.path})


def _mets_root(objid: str, label: str, created: str, organisation: str) -> etree._Element:
    root = etree.Element(_m("mets"), nsmap=NSMAP, attrib={
        "OBJID": objid, "LABEL": label, "TYPE": "Other", f"{{{CSIP}}}OTHERTYPE": CONTENT_CATEGORY_OTHER,
        f"{{{CSIP}}}CONTENTINFORMATIONTYPE": "OTHER",
        f"{{{CSIP}}}OTHERCONTENTINFORMATIONTYPE": CONTENT_INFORMATION_OTHER,
        "PROFILE": SIP_PROFILE, f"{{{XSI}}}schemaLocation": SCHEMA_LOCATION,
    })
    header = etree.SubElement(root, _m("metsHdr"), CREATEDATE=created, LASTMODDATE=created,
                              RECORDSTATUS="NEW",
                              attrib={f"{{{CSIP}}}OAISPACKAGETYPE": "SIP"})
    software = etree.SubElement(header, _m("agent"), ROLE="CREATOR", TYPE="OTHER", OTHERTYPE="SOFTWARE")
    etree.SubElement(software, _m("name")).text = SOFTWARE
    # CSIP15/16: exactly one note, csip:NOTETYPE="SOFTWARE VERSION". (eark-validator 1.1.3's SIP14
    # also wants an unqualified @NOTETYPE on it, which the METS schema forbids: see docs/archive.md.)
    etree.SubElement(software, _m("note"), attrib={f"{{{CSIP}}}NOTETYPE": "SOFTWARE VERSION"}).text = SOFTWARE_VERSION
    # The archive creator ("arkivbildare"): the department that owns the account.
    owner = etree.SubElement(header, _m("agent"), ROLE="ARCHIVIST", TYPE="ORGANIZATION")
    etree.SubElement(owner, _m("name")).text = organisation
    return root


def _write_xml(root: etree._Element, path: Path) -> None:
    path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _premis(files: list[PackedFile], created: str, package_id: str, content: ExportContent) -> etree._Element:
    p = f"{{{PREMIS}}}"
    root = etree.Element(p + "premis", nsmap={"premis": PREMIS, "xsi": XSI},
                         attrib={f"{{{XSI}}}schemaLocation": PREMIS_SCHEMA_LOCATION, "version": "3.0"})
    for n, f in enumerate(files, start=1):
        obj = etree.SubElement(root, p + "object", attrib={f"{{{XSI}}}type": "premis:file"})
        ident = etree.SubElement(obj, p + "objectIdentifier")
        etree.SubElement(ident, p + "objectIdentifierType").text = "local"
        etree.SubElement(ident, p + "objectIdentifierValue").text = f.path
        characteristics = etree.SubElement(obj, p + "objectCharacteristics")
        fixity = etree.SubElement(characteristics, p + "fixity")
        etree.SubElement(fixity, p + "messageDigestAlgorithm").text = "SHA-256"
        etree.SubElement(fixity, p + "messageDigest").text = f.sha256
        etree.SubElement(fixity, p + "messageDigestOriginator").text = SOFTWARE
        etree.SubElement(characteristics, p + "size").text = str(f.size)
        fmt = etree.SubElement(etree.SubElement(characteristics, p + "format"), p + "formatDesignation")
        etree.SubElement(fmt, p + "formatName").text = f.mimetype
        del n
    event = etree.SubElement(root, p + "event")
    ident = etree.SubElement(event, p + "eventIdentifier")
    etree.SubElement(ident, p + "eventIdentifierType").text = "local"
    etree.SubElement(ident, p + "eventIdentifierValue").text = f"{package_id}-creation"
    etree.SubElement(event, p + "eventType").text = "creation"
    etree.SubElement(event, p + "eventDateTime").text = created
    etree.SubElement(event, p + "eventDetailInformation").append(_text(
        p + "eventDetail",
        f"Export of account {content.account_id} {_iso(content.period_from)}–{_iso(content.period_to)}; "
        "each archived version's SHA-256 and hash-chain link is inside items.json",
    ))
    agent = etree.SubElement(root, p + "agent")
    ident = etree.SubElement(agent, p + "agentIdentifier")
    etree.SubElement(ident, p + "agentIdentifierType").text = "local"
    etree.SubElement(ident, p + "agentIdentifierValue").text = SOFTWARE
    etree.SubElement(agent, p + "agentName").text = SOFTWARE
    etree.SubElement(agent, p + "agentType").text = "software"
    return root


def _text(tag: str, value: str) -> etree._Element:
    element = etree.Element(tag)
    element.text = value
    return element


def _readme(content: ExportContent, package_id: str) -> str:
    return (
        f"Paket {package_id}\n"
        f"Konto: {content.account_name or content.account_id} ({content.account_id}), "
        f"förvaltning: {content.department or 'okänd'}\n"
        f"Period: {_iso(content.period_from)} – {_iso(content.period_to)}\n"
        f"Poster: {len(content.items)}, skärmdumpar av borttagna kommentarer: {len(content.snapshots)}\n\n"
        "representations/rep1/data/items.json: varje inlägg, kommentar, svar och DM med alla versioner\n"
        "(kanonisk JSON, SHA-256 och hashkedjelänk per version), modereringsbeslut, SLA-utfall och\n"
        "diarieföring. snapshots/: skärmdumpar (PDF, PNG) av kommentarer som staden dolt eller raderat.\n\n"
        "Social-media records of one city account for one period, exported from the socialops archive\n"
        "as an E-ARK SIP 2.1.0 (FGS Paketstruktur 2.0).\n"
    )


def write_sip(content: ExportContent, package_id: str, folder: Path, now: datetime | None = None) -> Path:
    """Write the package as a folder `<folder>/<package_id>/`; returns that folder."""
    created = _iso(now or datetime.now(UTC))
    organisation = content.department or "Staden"
    folder.mkdir(parents=True, exist_ok=True)
    root_dir = folder / package_id
    if root_dir.exists():
        shutil.rmtree(root_dir)
    rep_dir = root_dir / "representations" / "rep1"
    data_dir = rep_dir / "data"
    (data_dir / "snapshots").mkdir(parents=True)
    (root_dir / "metadata" / "preservation").mkdir(parents=True)
    (root_dir / "schemas").mkdir()
    (root_dir / "documentation").mkdir()

    account = {"account_id": content.account_id, "name": content.account_name, "department": content.department,
               "period_from": _iso(content.period_from), "period_to": _iso(content.period_to)}
    (data_dir / "account.json").write_text(json.dumps(account, ensure_ascii=False, indent=1), encoding="utf-8")
    (data_dir / "items.json").write_text(json.dumps(content.items, ensure_ascii=False, indent=1), encoding="utf-8")
    for number, pdf, png in content.snapshots:
        stem = number.replace(" ", "_").replace("/", "-")
        (data_dir / "snapshots" / f"{stem}.pdf").write_bytes(pdf)
        (data_dir / "snapshots" / f"{stem}.png").write_bytes(png)
    schemas = resources.files("socialops_archive.export") / "schemas"
    for schema in schemas.iterdir():
        if schema.name.endswith(".xsd"):
            (root_dir / "schemas" / schema.name).write_bytes(schema.read_bytes())
    (root_dir / "documentation" / "README.txt").write_text(_readme(content, package_id), encoding="utf-8")

    # Representation METS: the data files.
    data_files = sorted(p for p in data_dir.rglob("*") if p.is_file())
    rep = _mets_root("rep1", f"{package_id} rep1", created, organisation)
    rep_files = etree.SubElement(rep, _m("fileSec"), ID="rep1-fileSec")
    group = _file_group(rep_files, "rep1-data", "Data")
    rep_entries = [_describe(rep_dir, p, created) for p in data_files]
    for n, f in enumerate(rep_entries, start=1):
        _file_element(group, f"rep1-file-{n}", f)
    rep_struct = etree.SubElement(rep, _m("structMap"), ID="rep1-structMap", TYPE="PHYSICAL", LABEL="CSIP")
    rep_div = etree.SubElement(rep_struct, _m("div"), ID="rep1-div", LABEL="rep1")
    data_div = etree.SubElement(rep_div, _m("div"), ID="rep1-div-data", LABEL="Data")
    for n in range(1, len(rep_entries) + 1):
        etree.SubElement(data_div, _m("fptr"), FILEID=f"rep1-file-{n}")
    _write_xml(rep, rep_dir / "METS.xml")

    # Preservation metadata: fixity of every file in the package (but itself and the root METS).
    content_files = sorted(p for p in root_dir.rglob("*") if p.is_file())
    premis_path = root_dir / "metadata" / "preservation" / "premis.xml"
    premis = _premis([_describe(root_dir, p, created) for p in content_files], created, package_id, content)
    _write_xml(premis, premis_path)

    # Root METS.
    root = _mets_root(package_id, f"Sociala medier: {content.account_name or content.account_id}", created,
                      organisation)
    amd = etree.SubElement(root, _m("amdSec"), ID="amdSec-1")
    digiprov = etree.SubElement(amd, _m("digiprovMD"), ID="digiprovMD-premis", STATUS="CURRENT")
    premis_file = _describe(root_dir, premis_path, created)
    etree.SubElement(digiprov, _m("mdRef"), LOCTYPE="URL", MDTYPE="PREMIS", MIMETYPE="text/xml",
                     SIZE=str(premis_file.size), CREATED=created, CHECKSUM=premis_file.sha256,
                     CHECKSUMTYPE="SHA-256",
                     attrib={f"{{{XLINK}}}type": "simple", f"{{{XLINK}}}href": premis_file.path})
    file_sec = etree.SubElement(root, _m("fileSec"), ID="fileSec-1")
    docs = _file_group(file_sec, "fileGrp-documentation", "Documentation")
    doc_ids = []
    for n, p in enumerate(sorted((root_dir / "documentation").iterdir()), start=1):
        doc_ids.append(f"doc-{n}")
        _file_element(docs, doc_ids[-1], _describe(root_dir, p, created))
    schema_group = _file_group(file_sec, "fileGrp-schemas", "Schemas")
    schema_ids = []
    for n, p in enumerate(sorted((root_dir / "schemas").iterdir()), start=1):
        schema_ids.append(f"schema-{n}")
        _file_element(schema_group, schema_ids[-1], _describe(root_dir, p, created))
    reps = _file_group(file_sec, "fileGrp-rep1", "Representations/rep1")
    _file_element(reps, "rep1-mets", _describe(root_dir, rep_dir / "METS.xml", created))

    struct = etree.SubElement(root, _m("structMap"), ID="structMap-csip", TYPE="PHYSICAL", LABEL="CSIP")
    top = etree.SubElement(struct, _m("div"), ID="div-package", LABEL=package_id)
    etree.SubElement(top, _m("div"), ID="div-metadata", LABEL="Metadata", ADMID="digiprovMD-premis")
    doc_div = etree.SubElement(top, _m("div"), ID="div-documentation", LABEL="Documentation")
    for file_id in doc_ids:
        etree.SubElement(doc_div, _m("fptr"), FILEID=file_id)
    schema_div = etree.SubElement(top, _m("div"), ID="div-schemas", LABEL="Schemas")
    for file_id in schema_ids:
        etree.SubElement(schema_div, _m("fptr"), FILEID=file_id)
    rep_pointer = etree.SubElement(top, _m("div"), ID="div-rep1", LABEL="Representations")
    etree.SubElement(rep_pointer, _m("mptr"), LOCTYPE="URL", attrib={
        f"{{{XLINK}}}type": "simple", f"{{{XLINK}}}href": "representations/rep1/METS.xml",
        f"{{{XLINK}}}title": "rep1-mets"})
    etree.SubElement(rep_pointer, _m("fptr"), FILEID="rep1-mets")  # METS: mptr before fptr
    _write_xml(root, root_dir / "METS.xml")
    return root_dir


def write_sip_zip(content: ExportContent, package_id: str, folder: Path) -> Path:
    """The package zipped as `<folder>/<package_id>.zip` (the root folder inside the zip)."""
    with tempfile.TemporaryDirectory(prefix="sip-") as scratch:
        root_dir = write_sip(content, package_id, Path(scratch))
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{package_id}.zip"
        partial = target.with_suffix(".zip.part")
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(root_dir.rglob("*")):
                archive.write(path, path.relative_to(root_dir.parent).as_posix())
        partial.replace(target)
    return target
