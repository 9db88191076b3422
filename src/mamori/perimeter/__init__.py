"""Perimeter protection (AWS WAF, Shield and Network Firewall's jobs): `waf` evaluates AWS WAF
Web ACLs against HTTP requests; `netfw` evaluates Network Firewall policies against flows."""
