"""The endpoint list at /api/v1/docs and the OpenAPI document behind it: the paths an
integrator calls, as they are, each explained in Chinese."""

from __future__ import annotations

import re

from django.test import Client

from minyi.api.api import api
from minyi.api.docs import render_markdown

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _operations() -> list[tuple[str, str, dict]]:
    paths = api.get_openapi_schema()["paths"]
    return [(m.upper(), p, op) for p, ops in paths.items() for m, op in ops.items()]


def test_the_docs_page_lists_each_path_once_with_its_prefix(db: None) -> None:
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<code>/api/v1/cases</code>" in page
    assert "/api/v1/api/v1/" not in page


def test_every_operation_has_a_chinese_summary_description_and_tag() -> None:
    operations = _operations()
    assert len(operations) > 40
    for method, path, op in operations:
        where = f"{method} {path}"
        # Not django-ninja's default from the function's name ("List Cases").
        assert CHINESE.search(op.get("summary", "")), f"{where}: summary not in Chinese"
        assert CHINESE.search(op.get("description", "")), f"{where}: no Chinese description"
        assert "可调用" in op["description"], f"{where}: does not say who may call it"
        assert all(CHINESE.search(tag) for tag in op.get("tags", [])), f"{where}: tag"


def test_every_documented_response_is_described_in_chinese() -> None:
    for method, path, op in _operations():
        for status, response in op["responses"].items():
            assert CHINESE.search(response["description"]), f"{method} {path} {status}"


def test_every_schema_is_described_in_chinese() -> None:
    """A schema's description was its class's docstring, in English for this code's
    maintainers ("The fields of the registration form…"): a district's IT staff read
    this document. Field descriptions are checked as far as they go: none in English."""
    schemas = api.get_openapi_schema()["components"]["schemas"]
    for name, schema in schemas.items():
        text = schema.get("description")
        assert text is None or CHINESE.search(text), f"{name}: {text!r}"
        for field, prop in schema.get("properties", {}).items():
            text = prop.get("description")
            assert text is None or CHINESE.search(text), f"{name}.{field}: {text!r}"


def test_the_registration_schema_says_which_fields_the_form_requires() -> None:
    """The body's fields are all optional to the schema (the form checks them, with its
    Chinese messages), so the document must say which the form refuses to do without:
    an integrator pushing a 12345 work order learnt only from a 422 that
    representative_id is needed."""
    schema = api.get_openapi_schema()["components"]["schemas"]["CaseIn"]
    for field in ("studio_id", "representative_id", "reporter_name", "summary", "content"):
        assert field in schema["description"], field
        assert "必填" in schema["properties"][field]["description"], field


def test_the_docs_page_renders_the_markdown_and_shows_no_backtick(db: None) -> None:
    page = Client().get("/api/v1/docs").content.decode()
    assert "`" not in page
    assert "<code>Authorization: Bearer &lt;令牌&gt;</code>" in page
    assert "<li>" in page  # the intro's list
    for _method, _path, op in _operations():
        assert op["summary"] in page
    # Grouped by the Chinese tags; our own stylesheet, no script, no third-party asset.
    assert "<h2>社情民意</h2>" in page and "<h2>入户走访</h2>" in page
    assert "<script" not in page and "cdn" not in page.lower()
    assert re.findall(r'(?:href|src)="(https?:)?//', page) == []


def test_the_markdown_subset_escapes_everything_else() -> None:
    html = render_markdown("说明 `<b>` 和 <i>x</i>\n\n- 一\n- `二`\n\n单独的 ` 反引号")
    assert html == (
        "<p>说明 <code>&lt;b&gt;</code> 和 &lt;i&gt;x&lt;/i&gt;</p>"
        "<ul><li>一</li><li><code>二</code></li></ul>"
        "<p>单独的  反引号</p>"
    )
