"""The Question XML of a HIT, and the QuestionFormAnswers XML a submitted assignment carries."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from django.conf import settings

from mturk_emulator.protocol import RequestError

_SCHEMAS = "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/"
ANSWERS_NAMESPACE = f"{_SCHEMAS}2005-10-01/QuestionFormAnswers.xsd"
# The namespaces MTurk's schemas define for each kind of Question.
NAMESPACES = {
    "ExternalQuestion": {f"{_SCHEMAS}2006-07-14/ExternalQuestion.xsd"},
    "HTMLQuestion": {f"{_SCHEMAS}2011-11-11/HTMLQuestion.xsd"},
    "QuestionForm": {f"{_SCHEMAS}2005-10-01/QuestionForm.xsd", f"{_SCHEMAS}2017-11-06/QuestionForm.xsd"},
}
KNOWN_KINDS = set(NAMESPACES)
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class ParsedQuestion:
    """What a worker will see: an external page, an HTML page, or a question form."""

    kind: str
    external_url: str = ""
    frame_height: int = 0
    html_content: str = ""
    form_fields: tuple[tuple[str, str], ...] = ()  # (QuestionIdentifier, question text)


def parse_question(xml: str) -> ParsedQuestion:
    """Parse a HIT's Question XML, or refuse what MTurk's schemas refuse with its XML parse error.

    ExternalQuestion and HTMLQuestion must use their schema's namespace, and carry a FrameHeight;
    an ExternalURL must be https:// (plain http://localhost or 127.0.0.1 only where the setting
    MTURK_EMULATOR_ALLOW_PLAIN_HTTP_LOCALHOST allows it, for a crowdhr served over http locally).
    """
    root = _parse(xml)
    kind = _local_name(root.tag)
    if kind not in KNOWN_KINDS:
        raise _invalid(f"the root element must be one of {', '.join(sorted(KNOWN_KINDS))}, not {kind}")
    namespace = _namespace(root.tag)
    if namespace not in NAMESPACES[kind]:
        raise _invalid(
            f"{kind} must be in the namespace {' or '.join(sorted(NAMESPACES[kind]))}, not {namespace or 'none'}"
        )
    if kind == "ExternalQuestion":
        url = _required_text(root, "ExternalURL")
        return ParsedQuestion(kind, external_url=_external_url(url), frame_height=_height(root))
    if kind == "HTMLQuestion":
        return ParsedQuestion(
            kind, html_content=_required_text(root, "HTMLContent"), frame_height=_height(root)
        )
    return ParsedQuestion(kind, form_fields=_form_fields(root))


def _external_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname in LOCAL_HOSTS and plain_http_localhost_allowed():
        return url
    raise _invalid(f"the ExternalURL must be a valid https:// URL, not {url!r}")


def plain_http_localhost_allowed() -> bool:
    """Development only: accept http://localhost and http://127.0.0.1 ExternalURLs."""
    return bool(getattr(settings, "MTURK_EMULATOR_ALLOW_PLAIN_HTTP_LOCALHOST", False))


def _parse(xml: str) -> ET.Element:
    try:
        # Expat neither resolves external entities nor expands entity bombs (libexpat >= 2.4).
        return ET.fromstring(xml)  # noqa: S314
    except ET.ParseError as error:
        raise _invalid(f"it is not well-formed XML ({error})") from None


def _invalid(problem: str) -> RequestError:
    return RequestError(f"The Question is invalid: {problem}.", "AWS.MechanicalTurk.XMLParseError")


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _child(root: ET.Element, name: str) -> ET.Element | None:
    return next((el for el in root.iter() if _local_name(el.tag) == name), None)


def _own_child(root: ET.Element, name: str) -> ET.Element | None:
    """A direct child element in the root's own namespace, as the schema requires."""
    namespace = _namespace(root.tag)
    return root.find(f"{{{namespace}}}{name}" if namespace else name)


def _required_text(root: ET.Element, name: str) -> str:
    element = _own_child(root, name)
    text = (element.text or "").strip() if element is not None else ""
    if not text:
        raise _invalid(f"{_local_name(root.tag)} needs a non-empty {name}")
    return text


def _height(root: ET.Element) -> int:
    element = _own_child(root, "FrameHeight")
    if element is None:
        raise _invalid(f"{_local_name(root.tag)} needs a FrameHeight (0 lets the frame fill the window)")
    text = (element.text or "").strip()
    if not text.isdigit() or not text.isascii():
        raise _invalid("FrameHeight must be a whole number of pixels")
    return int(text)


def _form_fields(root: ET.Element) -> tuple[tuple[str, str], ...]:
    fields = []
    for question in (el for el in root.iter() if _local_name(el.tag) == "Question"):
        identifier = _child(question, "QuestionIdentifier")
        text = _child(question, "Text")
        if identifier is not None and identifier.text:
            fields.append((identifier.text.strip(), (text.text or "").strip() if text is not None else ""))
    return tuple(fields)


def answers_xml(answers: dict[str, str]) -> str:
    """MTurk's QuestionFormAnswers XML with one FreeText answer per field."""
    parts = [
        f'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<QuestionFormAnswers xmlns="{ANSWERS_NAMESPACE}">'
    ]
    for name, value in answers.items():
        parts.append(
            f"<Answer><QuestionIdentifier>{escape(str(name))}</QuestionIdentifier>"
            f"<FreeText>{escape(str(value))}</FreeText></Answer>"
        )
    parts.append("</QuestionFormAnswers>")
    return "".join(parts)


def answers_from_xml(xml: str) -> dict[str, str]:
    """The answers of a QuestionFormAnswers document as {QuestionIdentifier: FreeText}."""
    if not xml:
        return {}
    root = _parse(xml)
    answers = {}
    for answer in (el for el in root.iter() if _local_name(el.tag) == "Answer"):
        identifier = _child(answer, "QuestionIdentifier")
        free_text = _child(answer, "FreeText")
        if identifier is not None:
            answers[identifier.text or ""] = (free_text.text or "") if free_text is not None else ""
    return answers
