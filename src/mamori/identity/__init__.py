"""Identity analysis: one exact IAM policy evaluator and the analyses built on it
(privilege-escalation paths, external and unused access, SCP guardrails, policy lints)."""
