"""The web console: Swedish pages for archivists, registrars, editors, the contact center and communications."""
