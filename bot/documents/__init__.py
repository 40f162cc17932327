"""Generated documents (python-docx): the HTX/THT founding dossier."""
