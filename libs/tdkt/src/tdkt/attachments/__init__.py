"""Documents uploaded as evidence and dossiers: the byte store (`store`), the checks on what is
uploaded (`uploads`) and the HTTP side of uploads and downloads (`web`)."""
