"""The read-only FHIR R4 directory at /fhir/r4 (SPEC "FHIR R4")."""
