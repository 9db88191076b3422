"""AWS Config: configuration recorders, their recording status, and delivery channels."""

from __future__ import annotations

from mamori.inventory.framework import CollectContext, collector


@collector(
    "config",
    scope="regional",
    calls=[
        "config.describe_configuration_recorders",
        "config.describe_configuration_recorder_status",
        "config.describe_delivery_channels",
    ],
)
def collect_config(ctx: CollectContext) -> None:
    # A region where Config was never set up answers with empty lists, not with an error.
    ctx.put(
        "recorders",
        ctx.call("config", "describe_configuration_recorders", pick="ConfigurationRecorders"),
    )
    ctx.put(
        "recorder_status",
        ctx.call(
            "config", "describe_configuration_recorder_status", pick="ConfigurationRecordersStatus"
        ),
    )
    ctx.put(
        "delivery_channels",
        ctx.call("config", "describe_delivery_channels", pick="DeliveryChannels"),
    )
