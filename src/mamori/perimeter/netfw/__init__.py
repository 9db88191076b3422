"""Network Firewall policy evaluation: what a firewall policy (stateless rule groups, stateful
5-tuple, domain list and Suricata rule groups, default or strict order) would have passed,
dropped or alerted in VPC Flow Logs and Route 53 Resolver query logs."""

from mamori.perimeter.netfw.model import Action, Policy
from mamori.perimeter.netfw.policy import load_policy
from mamori.perimeter.netfw.run import NetfwReport, evaluate

__all__ = ["Action", "NetfwReport", "Policy", "evaluate", "load_policy"]
