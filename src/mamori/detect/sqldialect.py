"""Rule SQL (DuckDB dialect) as Spark SQL: sqlglot's transpiler plus the few rewrites it lacks,
with the rules' macros (`mamori.detect.rules.base.MACROS`) expanded in place.

sqlglot translates most of the dialect (list lambdas, `string_split`, `arg_max`, `unnest`...).
What it leaves as DuckDB, or translates to something that computes differently on Spark, is
rewritten here on the parsed tree, so that rules stay written once:

- `array_agg(x ORDER BY k ...)`: Spark's `collect_list` has no ORDER BY (sqlglot drops it) and
  skips NULLs; the rows are collected as structs, sorted, then unwrapped.
- `list_slice(l, a, b)` (inclusive end) -> `slice(l, a, length)`.
- `list_has_all(a, b)` -> `b` minus `a` is empty (NULL elements of `b` ignored, as DuckDB does).
- `regexp_full_match(s, p)` -> `s RLIKE '^(?:p)\\z'` (RLIKE finds; it does not match whole).
- `len(list)` -> `size(list)` (sqlglot reads `len` as string length).
- `list_distinct(l)` drops NULLs on DuckDB, `array_distinct` keeps one.
- `to_json(struct)` keeps NULL fields, as DuckDB's does.
- `CAST(timestamp AS VARCHAR)` (in evidence ids) -> DuckDB's text, `2026-11-01 09:00:00+00`.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from mamori.core import InputError
from mamori.detect.schema import TABLES

# Columns holding timestamps, by name (rule SQL has no types at this stage): the tables' own and
# the names `finding_sql` / `burst_sql` give derived times.
TIMESTAMP_COLUMNS = frozenset(
    {
        *(f.name for t in TABLES.values() for f in t.schema if str(f.type).startswith("timestamp")),
        "ts",
        "win",
        "first_seen",
        "last_seen",
    }
)

LIST_COLUMNS = frozenset(
    f.name for t in TABLES.values() for f in t.schema if str(f.type).startswith("list")
)

_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"^{_OCTET}\\.{_OCTET}\\.{_OCTET}\\.{_OCTET}\\z"
_KIND_TEXT = "lower(coalesce(:threat, '') || ' ' || coalesce(:list_name, ''))"

# The macros of rules/base.py in Spark SQL, expanded into each query where they are called
# (`:name` is a parameter). Not Python UDFs (slow), and not Spark SQL functions: Spark 4 refuses
# those inside lambdas and generators (`explode(dns_suffixes(...))`), and Spark 3 has none.
# String literals are Spark's: a backslash is written twice. Java's `$` also matches before a
# final newline, so whole-text anchors are `\z`. A value used many times is bound once as a
# lambda parameter (`element_at(transform(array(v), x -> ...), 1)`), as the DuckDB macros do.
SPARK_MACROS: dict[str, str] = {
    "ip4_num": f"""CASE WHEN :ip RLIKE '{_IPV4}' THEN
        CAST(split_part(:ip, '.', 1) AS BIGINT) * 16777216
        + CAST(split_part(:ip, '.', 2) AS BIGINT) * 65536
        + CAST(split_part(:ip, '.', 3) AS BIGINT) * 256 + CAST(split_part(:ip, '.', 4) AS BIGINT)
        END""",
    "in_net": """CASE WHEN :lo IS NOT NULL THEN coalesce(ip4_num(:ip) BETWEEN :lo AND :hi, false)
        ELSE lower(:ip) = lower(:network) END""",
    "is_ip": "(ip4_num(:ip) IS NOT NULL OR :ip RLIKE '^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*\\\\z')",
    "is_private_ip": """element_at(transform(array(ip4_num(:ip)), mamori_n ->
        CASE WHEN mamori_n IS NOT NULL THEN
            mamori_n BETWEEN 167772160 AND 184549375
            OR mamori_n BETWEEN 2886729728 AND 2887778303
            OR mamori_n BETWEEN 3232235520 AND 3232301055
            OR mamori_n BETWEEN 2130706432 AND 2147483647
            OR mamori_n BETWEEN 2851995648 AND 2852061183
            OR mamori_n BETWEEN 1681915904 AND 1686110207
        ELSE lower(:ip) RLIKE '^(f[cd][0-9a-f]{2}:|fe80:|::1\\\\z)'
        END), 1)""",
    "net24": """CASE WHEN ip4_num(:ip) IS NOT NULL
            THEN regexp_extract(:ip, '^([0-9]+\\\\.[0-9]+\\\\.[0-9]+)\\\\.', 1) || '.0/24'
        ELSE lower(:ip) END""",
    "registrable_domain": """CASE
        WHEN :name RLIKE '\\\\.(co|com|net|org|gov|ac|edu|ne|or|go)\\\\.[a-z]{2}\\\\z'
            THEN regexp_extract(:name, '([^.]+\\\\.[^.]+\\\\.[^.]+)\\\\z', 1)
        WHEN contains(:name, '.') THEN regexp_extract(:name, '([^.]+\\\\.[^.]+)\\\\z', 1)
        ELSE :name END""",
    "dns_suffixes": """element_at(transform(array(split(:name, '\\\\.')), mamori_p ->
        transform(sequence(1, size(mamori_p)),
            mamori_i -> array_join(slice(mamori_p, mamori_i, size(mamori_p)), '.'))), 1)""",
    "str_entropy": """CASE WHEN coalesce(length(:s), 0) = 0 THEN 0.0D
        ELSE aggregate(array_distinct(split(:s, '')), 0.0D, (mamori_acc, mamori_c) -> mamori_acc
            - ((length(:s) - length(replace(:s, mamori_c, ''))) / length(:s))
            * log2((length(:s) - length(replace(:s, mamori_c, ''))) / length(:s)))
        END""",
    "intel_kind": f"""element_at(transform(array({_KIND_TEXT}), mamori_t -> CASE
        WHEN mamori_t RLIKE 'guardduty-test' THEN NULL
        WHEN mamori_t RLIKE '(^|[^a-z])tor([^a-z]|exit|\\\\z)' THEN 'tor'
        WHEN mamori_t RLIKE 'min(ing|er)|crypto|bitcoin|coin' THEN 'mining'
        WHEN mamori_t RLIKE 'c2|c&c|command|botnet|backdoor' THEN 'c2'
        WHEN mamori_t RLIKE 'phish' THEN 'phishing'
        WHEN mamori_t RLIKE 'drop' THEN 'droppoint'
        ELSE 'malicious' END), 1)""",
    "time_floor": "timestamp_micros(unix_micros(:t) - pmod(unix_micros(:t), :w))",
    # DuckDB's text of a UTC timestamp: fraction only when non-zero, trailing zeros dropped.
    "mamori_ts_text": """regexp_replace(date_format(:t, 'yyyy-MM-dd HH:mm:ss.SSSSSS'),
        '\\\\.?0+\\\\z', '') || '+00'""",
}
# Parameters in the order the DuckDB macros take them.
_PARAMS = {
    "ip4_num": ("ip",),
    "in_net": ("ip", "network", "lo", "hi"),
    "is_ip": ("ip",),
    "is_private_ip": ("ip",),
    "net24": ("ip",),
    "registrable_domain": ("name",),
    "dns_suffixes": ("name",),
    "str_entropy": ("s",),
    "intel_kind": ("list_name", "threat"),
    "mamori_ts_text": ("t",),
    "time_floor": ("t", "w"),
}

# Settings the functions and rewrites rely on: DuckDB semantics for NULL lists and bad casts.
SPARK_SQL_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.legacy.sizeOfNull": "false",
}


def _template(sql: str) -> Callable[..., exp.Expr]:
    tree = sqlglot.parse_one(sql, read="spark")
    return lambda **parts: exp.replace_placeholders(tree.copy(), **parts)


_HAS_ALL = _template("size(array_except(filter(:b, v_ -> v_ IS NOT NULL), :a)) = 0")
_NO_NULLS = _template("filter(:l, v_ -> v_ IS NOT NULL)")
_JSON_OPTIONS = sqlglot.parse_one("map('ignoreNullFields', 'false')", read="spark")
# Expressions whose value is a list (for `len`): sqlglot parses `len(x)` as string length.
_LISTS = (
    exp.RegexpExtractAll,
    exp.ArrayFilter,
    exp.Split,
    exp.Array,
    exp.ArrayDistinct,
    exp.Transform,
    exp.ArrayAgg,
    exp.Flatten,
)


def _name(node: exp.Expr) -> str:
    return node.name.lower() if isinstance(node, exp.Anonymous) else ""


def _substitute(body: exp.Expr, values: dict[str, exp.Expr]) -> exp.Expr:
    def put(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder) and node.name in values:
            return values[node.name].copy()
        return node

    return body.copy().transform(put)


def _expanded_bodies() -> dict[str, exp.Expr]:
    """Each macro's body with the macros it calls already expanded (they come earlier)."""
    bodies: dict[str, exp.Expr] = {}
    for name, sql in SPARK_MACROS.items():
        tree = sqlglot.parse_one(sql, read="spark")

        def inline(node: exp.Expr) -> exp.Expr:
            called = _name(node)
            if called in bodies:
                args = dict(zip(_PARAMS[called], node.expressions, strict=True))
                return _substitute(bodies[called], args)
            return node

        bodies[name] = tree.transform(inline)
    return bodies


_BODIES = _expanded_bodies()
_SIMPLE = (exp.Column, exp.Literal, exp.Null, exp.Placeholder)


def _expand(name: str, args: list[exp.Expr], names: Iterator[int]) -> exp.Expr:
    """A macro call as its body; an argument that is an expression used more than once in the
    body is computed once, bound to a lambda parameter."""
    params = _PARAMS[name]
    if len(args) != len(params):
        raise InputError(f"{name}() takes {len(params)} argument(s), got {len(args)}")
    body = _BODIES[name]
    values = dict(zip(params, args, strict=True))
    bound: list[tuple[str, exp.Expr]] = []
    for param, arg in values.items():
        uses = sum(1 for p in body.find_all(exp.Placeholder) if p.name == param)
        if uses > 1 and not isinstance(arg, _SIMPLE):
            var = f"mamori_b{next(names)}"
            bound.append((var, arg))
            values[param] = exp.column(var)
    result = _substitute(body, values)
    for var, arg in reversed(bound):
        lam = exp.Lambda(this=result, expressions=[exp.to_identifier(var)])
        spread = exp.Transform(this=exp.Array(expressions=[arg]), expression=lam)
        result = exp.Anonymous(this="element_at", expressions=[spread, exp.Literal.number(1)])
    return result


def _ordered_agg(node: exp.ArrayAgg) -> exp.Expr:
    order: exp.Order = node.this
    fields: list[exp.Expr] = []
    for i, key in enumerate(order.expressions):
        if key.args.get("desc"):
            raise InputError("array_agg(... ORDER BY ... DESC) has no Spark rewrite")
        null_rank: exp.Expr = exp.Is(this=key.this.copy(), expression=exp.Null())
        if key.args.get("nulls_first"):
            null_rank = exp.Not(this=null_rank)
        fields += [exp.Literal.string(f"n{i}"), null_rank, exp.Literal.string(f"k{i}"), key.this]
    fields += [exp.Literal.string("v"), order.this]
    rows = exp.Anonymous(
        this="array_sort",
        expressions=[
            exp.Anonymous(this="collect_list", expressions=[exp.func("named_struct", *fields)])
        ],
    )
    return exp.Transform(
        this=rows,
        expression=exp.Lambda(this=exp.column("v", "s_"), expressions=[exp.to_identifier("s_")]),
    )


def _slice(node: exp.Anonymous) -> exp.Expr:
    lst, start, end = node.expressions
    if isinstance(start, exp.Literal) and isinstance(end, exp.Literal):
        length: exp.Expr = exp.Literal.number(max(0, int(end.this) - int(start.this) + 1))
    else:
        length = exp.Paren(
            this=exp.Add(this=exp.Sub(this=end, expression=start), expression=exp.Literal.number(1))
        )
    return exp.Anonymous(this="slice", expressions=[lst, start, length])


def _full_match(node: exp.RegexpFullMatch) -> exp.Expr:
    pattern = node.expression
    if not isinstance(pattern, exp.Literal):
        raise InputError("regexp_full_match with a computed pattern has no Spark rewrite")
    whole = exp.Literal.string(f"^(?:{pattern.this})\\z")
    return exp.RegexpLike(this=node.this, expression=whole)


def _rewrite_one(node: exp.Expr, names: Iterator[int]) -> exp.Expr:
    if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order):
        return _ordered_agg(node)
    if isinstance(node, exp.RegexpFullMatch):
        return _full_match(node)
    if isinstance(node, exp.Length) and (
        isinstance(node.this, _LISTS)
        or (isinstance(node.this, exp.Column) and node.this.name in LIST_COLUMNS)
    ):
        return exp.ArraySize(this=node.this)
    if isinstance(node, exp.ArrayDistinct):
        return exp.ArrayDistinct(this=_NO_NULLS(l=node.this))
    if isinstance(node, exp.Cast) and node.to.is_type("varchar", "text"):
        inner = node.this
        if isinstance(inner, exp.Column) and inner.name in TIMESTAMP_COLUMNS:
            return _expand("mamori_ts_text", [inner], names)
    name = _name(node)
    if name == "list_slice":
        return _slice(node)  # type: ignore[arg-type]
    if name == "list_has_all":
        a, b = node.expressions
        return exp.Paren(this=_HAS_ALL(a=a, b=b))
    if name in _PARAMS:
        return _expand(name, node.expressions, names)
    if name == "to_json" and len(node.expressions) == 1:
        return exp.Anonymous(
            this="to_json", expressions=[node.expressions[0], _JSON_OPTIONS.copy()]
        )
    return node


def _rewrite(node: exp.Expr, names: Iterator[int]) -> exp.Expr:
    """Post-order: children first, so a rewrite sees rewritten arguments and is never re-run on
    its own output."""
    for key, value in list(node.args.items()):
        if isinstance(value, exp.Expr):
            node.set(key, _rewrite(value, names))
        elif isinstance(value, list):
            node.set(key, [_rewrite(v, names) if isinstance(v, exp.Expr) else v for v in value])
    return _rewrite_one(node, names)


@functools.lru_cache(maxsize=512)
def to_spark(sql: str) -> str:
    """DuckDB-dialect rule SQL (macros included) as Spark SQL."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
        return _rewrite(tree, itertools.count()).sql(dialect="spark")
    except SqlglotError as exc:
        raise InputError(f"cannot translate to Spark SQL: {str(exc).splitlines()[0]}") from None
