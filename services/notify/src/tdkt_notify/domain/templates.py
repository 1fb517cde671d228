"""Message templates (Jinja2): for each template name a subject, a plain-text body and an HTML
body, in Vietnamese. Defaults ship in `tdkt_notify/templates/<name>.{subject,txt,html}.j2`;
communications may override any of them through `/api/v1/templates/<name>` — an override is
accepted only if it renders against a sample event (422 naming the part and the line otherwise).

Undefined names are errors (StrictUndefined): a typo must fail when the template is saved, not
produce an email with a hole in it. HTML bodies are autoescaped; subjects and text are not.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from importlib import resources
from typing import Any

from jinja2 import BaseLoader, Environment, StrictUndefined, TemplateError, TemplateSyntaxError, select_autoescape
from tdkt.errors import Invalid

PARTS = ("subject", "txt", "html")


def _dmy(value: Any) -> str:
    """dd/mm/yyyy, as dates are shown in Vietnam."""
    if not value:
        return ""
    try:
        return (value if isinstance(value, date) else datetime.fromisoformat(str(value))).strftime("%d/%m/%Y")
    except ValueError:
        return str(value)


def _vnd(value: Any) -> str:
    return f"{int(value):,}".replace(",", ".") + " đ" if value is not None else ""


def _environment(autoescape: bool) -> Environment:
    env = Environment(loader=BaseLoader(), undefined=StrictUndefined, autoescape=select_autoescape(default=autoescape, default_for_string=autoescape), keep_trailing_newline=True)
    env.filters["dmy"], env.filters["vnd"] = _dmy, _vnd
    return env


PLAIN, HTML = _environment(False), _environment(True)


def shipped_names() -> set[str]:
    folder = resources.files("tdkt_notify") / "templates"
    return {entry.name.split(".")[0] for entry in folder.iterdir() if entry.name.endswith(".j2")}


def shipped(name: str) -> dict[str, str]:
    folder = resources.files("tdkt_notify") / "templates"
    return {part: (folder / f"{name}.{part}.j2").read_text(encoding="utf-8") for part in PARTS}


def render(sources: Mapping[str, str], context: dict[str, Any]) -> dict[str, str]:
    """{subject, text, html} from the three sources; the subject on one line."""
    subject = PLAIN.from_string(sources["subject"]).render(context)
    return {
        "subject": " ".join(subject.split()),
        "text": PLAIN.from_string(sources["txt"]).render(context),
        "html": HTML.from_string(sources["html"]).render(context),
    }


def check(sources: Mapping[str, str], sample: dict[str, Any]) -> dict[str, str]:
    """Render against a sample; 422 naming the part (subject / txt / html) that fails."""
    for part in PARTS:
        env = HTML if part == "html" else PLAIN
        try:
            env.from_string(sources[part]).render(sample)
        except TemplateSyntaxError as exc:
            raise Invalid(part, f"Lỗi cú pháp mẫu dòng {exc.lineno}: {exc.message} / template syntax error on line {exc.lineno}: {exc.message}") from None
        except TemplateError as exc:
            raise Invalid(part, f"Mẫu không hiển thị được với sự kiện mẫu: {exc} / the template does not render with a sample event: {exc}") from None
    return render(sources, sample)
