"""One module per AWS service; each registers its checks with `@check`."""
