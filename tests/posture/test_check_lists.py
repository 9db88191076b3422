"""Checks over other services' resource lists ("service:key")."""

from __future__ import annotations

import pytest

from mamori.posture.registry import ACCOUNT, _lists


def test_lists_name_their_service() -> None:
    assert _lists("waf", "elbv2:load_balancers") == (("elbv2", "load_balancers"),)
    assert _lists("s3", "buckets") == (("s3", "buckets"),)
    assert _lists("waf", ("wafv2:web_acls", "cloudfront:web_acls")) == (
        ("wafv2", "web_acls"),
        ("cloudfront", "web_acls"),
    )
    assert _lists("iam", ACCOUNT) == ()


@pytest.mark.parametrize("over", ["elbv2:", ":", ("s3:buckets", ACCOUNT)])
def test_malformed_lists_are_refused(over: str | tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="over"):
        _lists("waf", over)
