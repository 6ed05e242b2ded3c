"""Every name a schema writes is a published one: OTel semconv constants, ECS fields, Datadog attributes."""

from __future__ import annotations

import ast
import csv
import importlib
import pkgutil
from pathlib import Path

import pytest
from opentelemetry import semconv
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

from claude_logging import _schemas

DATA = Path(__file__).parent / "data"
OURS = "claude."


def semconv_attributes():
    """Every attribute name the opentelemetry-semantic-conventions package defines -> deprecated?

    Read from the package's modules (stable and incubating); a name is deprecated when every
    definition of it says so in its docstring. Since semconv 1.42 the GenAI names live in their own
    repository and the package marks them "Deprecated: Moved to ..." with the name unchanged: those
    are current; "Replaced by ..." ones (`gen_ai.system`, `gen_ai.usage.prompt_tokens`) are not.
    """
    deprecated: dict[str, bool] = {}
    packages = ["opentelemetry.semconv.attributes", "opentelemetry.semconv._incubating.attributes"]
    for package_name in packages:
        package = importlib.import_module(package_name)
        for module in pkgutil.iter_modules(package.__path__):
            path = Path(package.__path__[0]) / f"{module.name}.py"
            body = ast.parse(path.read_text()).body
            for node, following in zip(body, [*body[1:], None], strict=True):
                if not isinstance(node, (ast.Assign, ast.AnnAssign)):
                    continue
                value = node.value
                if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
                    continue
                doc = following.value.value if isinstance(following, ast.Expr) else ""
                doc = doc.strip() if isinstance(doc, str) else ""
                is_deprecated = doc.startswith("Deprecated") and not doc.startswith("Deprecated: Moved to")
                deprecated[value.value] = deprecated.get(value.value, True) and is_deprecated
    return deprecated


SEMCONV = semconv_attributes()
TEMPLATES = {"http.response.header", "http.request.header"}


def pinned_genai_names(kind):
    """The GenAI names pinned from the convention text (tests/data/otel_genai_names.txt), by kind."""
    lines = (DATA / "otel_genai_names.txt").read_text().splitlines()
    return {line.split()[1] for line in lines if line.startswith(f"{kind} ")}


GENAI_ATTRIBUTES = pinned_genai_names("attribute")
GENAI_METRICS = pinned_genai_names("metric")


def sdk_attribute_names():
    """The `anthropic.*` attribute names the SDK's own tracing writes (its published attribute table)."""
    from anthropic import _tracing

    names = set(_tracing.RESPONSE_HEADER_ATTRIBUTES)
    for spec in _tracing.SPAN_ATTRIBUTES.values():
        names.update(spec.get("request", {}), spec.get("response", {}))
    return {name for name in names if name.startswith("anthropic.")}


SDK_NAMES = sdk_attribute_names()


def is_semconv(name):
    """A live OTel attribute: a pinned GenAI name, a semconv constant, or a template's instance.

    A gen_ai.* name is judged by the convention text only (the package lags it and keeps renamed names).
    """
    if name.startswith("gen_ai."):
        return name in GENAI_ATTRIBUTES
    if name in SEMCONV:
        return not SEMCONV[name]
    return any(name.startswith(f"{template}.") for template in TEMPLATES)


def is_vendor(name):
    """A name the Anthropic SDK's own tracing writes (`anthropic.thinking.type`, ...)."""
    return name in SDK_NAMES


def written_names(schema):
    """(object, name) for every name the schema can write; object is None at the top level."""
    names = set()
    for dotted in _schemas.SCHEMAS[schema].names():
        head, _, rest = dotted.partition(".")
        names.add((head, rest) if head in {"Attributes", "Resource"} else (None, dotted))
    return names


def test_semconv_package_is_read():
    """Guard for the checks below: GenAI names are current, renamed and deprecated ones are not."""
    assert semconv.__name__ == "opentelemetry.semconv"
    assert SEMCONV["gen_ai.usage.cache_read.input_tokens"] is False
    assert SEMCONV["error.type"] is False
    assert SEMCONV["gen_ai.system"] is True
    assert SEMCONV["gen_ai.usage.prompt_tokens"] is True
    assert SEMCONV["error.message"] is True


@pytest.mark.parametrize("schema", ["datadog", "ecs", "otel"])
def test_llm_fields_use_current_otel_genai_names(schema):
    """In every non-flat schema each gen_ai.* name is a semconv constant that is not deprecated."""
    gen_ai = {name for _, name in written_names(schema) if name.startswith("gen_ai.")}

    assert {
        "gen_ai.provider.name",
        "gen_ai.operation.name",
        "gen_ai.request.model",
        "gen_ai.response.model",
        "gen_ai.request.max_tokens",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_write.input_tokens",
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.response.id",
        "gen_ai.response.finish_reasons",
        "gen_ai.response.time_to_first_chunk",
        "gen_ai.conversation.id",
    } <= gen_ai
    assert [name for name in sorted(gen_ai) if not is_semconv(name)] == []


def test_a_renamed_genai_name_fails_the_check():
    """Guard: the name the conventions replaced is rejected, its successor accepted."""
    assert not is_semconv("gen_ai.usage.cache_creation.input_tokens")
    assert is_semconv("gen_ai.usage.cache_write.input_tokens")
    assert not is_semconv("gen_ai.system")


def test_the_pinned_names_agree_with_the_semconv_package_where_it_has_them():
    """A pinned GenAI attribute the package knows is one it does not call replaced."""
    stale = [name for name in sorted(GENAI_ATTRIBUTES) if SEMCONV.get(name)]
    assert stale == []


def test_anthropic_names_are_the_sdks_own():
    """Every anthropic.* name a schema writes is in the SDK's tracing attribute table."""
    names = {name for schema in ("datadog", "ecs", "otel") for _, name in written_names(schema)}
    anthropic_names = {name for name in names if name.startswith("anthropic.")}

    assert anthropic_names
    assert sorted(anthropic_names - SDK_NAMES) == []


def test_otel_attributes_and_resource_are_semconv_or_ours():
    """Every otel attribute and resource name is a live semconv name, or under the claude. namespace."""
    names = [name for place, name in written_names("otel") if place is not None]

    assert [
        name
        for name in sorted(names)
        if not name.startswith(OURS) and not is_semconv(name) and not is_vendor(name)
    ] == []


def test_otel_top_level_fields_are_the_log_data_model():
    """Timestamp, SeverityText, ..., SpanId: the fields of the SDK's own LogRecord (snake_case there)."""
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    provider.get_logger("probe").emit(body="probe")
    sdk_fields = set(json_keys(exporter.get_finished_logs()[0].to_json()))

    top = {name for place, name in written_names("otel") if place is None}
    snake = {"".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_") for name in top}
    assert snake <= sdk_fields
    assert snake >= {
        "timestamp",
        "severity_text",
        "severity_number",
        "body",
        "event_name",
        "trace_id",
        "span_id",
    }


def json_keys(text):
    import json

    return json.loads(text).keys()


def ecs_fields():
    with (DATA / "ecs_fields.csv").open() as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return {row["field"]: row["type"] for row in rows}


def test_ecs_fields_are_ecs_otel_or_ours():
    """Each ecs-schema name is an ECS field (vendored field set), an OTel name, or claude.*."""
    ecs = ecs_fields()
    names = {name for _, name in written_names("ecs")}

    unknown = [
        name
        for name in sorted(names)
        if name not in ecs and not is_semconv(name) and not is_vendor(name) and not name.startswith(OURS)
    ]
    assert unknown == []
    assert {"@timestamp", "log.level", "event.duration", "organization.id", "ecs.version"} <= names & set(ecs)


def test_datadog_names_are_standard_reserved_otel_or_ours():
    """Each datadog-schema name is a Datadog reserved/standard attribute, an OTel name, or claude.*."""
    with (DATA / "datadog_attributes.csv").open() as handle:
        datadog = {
            row["attribute"] for row in csv.DictReader(line for line in handle if not line.startswith("#"))
        }
    names = {name for _, name in written_names("datadog")}

    unknown = [
        n
        for n in sorted(names)
        if n not in datadog and not is_semconv(n) and not is_vendor(n) and not n.startswith(OURS)
    ]
    assert unknown == []
    assert {"duration", "status", "usr.id", "error.kind", "http.status_code", "http.request_id"} <= names
