"""E-archive export: E-ARK SIP 2.1.0 / FGS Paketstruktur 2.0 packages of an account's records."""
