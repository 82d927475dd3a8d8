"""E-archive export: E-ARK SIP 2.1.0 / FGS Paketstruktur 2.0 packages of an account's records."""

from pathlib import Path

# The CSIP controlled vocabularies the package's METS values come from (origin: vocabularies/README.md).
VOCABULARIES = Path(__file__).resolve().parent / "vocabularies"
