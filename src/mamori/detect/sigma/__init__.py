"""Sigma rules for CloudTrail, imported as Mamori detections (pySigma + its DuckDB backend with
a field mapping onto the normalised `events` table). See docs/sigma.md."""

from mamori.detect.sigma.convert import (
    Converted,
    Refused,
    SigmaImport,
    convert_text,
    import_sigma,
    sigma_files,
)

__all__ = ["Converted", "Refused", "SigmaImport", "convert_text", "import_sigma", "sigma_files"]
