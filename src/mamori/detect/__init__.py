"""Threat detection over AWS logs (GuardDuty's job): readers into normalised columnar tables,
detections as SQL over them, threat intelligence, and findings aggregated like GuardDuty's."""
