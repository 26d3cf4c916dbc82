"""The Question XML of a HIT, and the QuestionFormAnswers XML a submitted assignment carries."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import escape

from mturk_emulator.protocol import RequestError

ANSWERS_NAMESPACE = (
    "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/QuestionFormAnswers.xsd"
)
KNOWN_KINDS = {"ExternalQuestion", "HTMLQuestion", "QuestionForm"}


@dataclass(frozen=True)
class ParsedQuestion:
    """What a worker will see: an external page, an HTML page, or a question form."""

    kind: str
    external_url: str = ""
    frame_height: int = 0
    html_content: str = ""
    form_fields: tuple[tuple[str, str], ...] = ()  # (QuestionIdentifier, question text)


def parse_question(xml: str) -> ParsedQuestion:
    """Parse a HIT's Question XML, or refuse it with MTurk's XML parse error."""
    root = _parse(xml)
    kind = _local_name(root.tag)
    if kind not in KNOWN_KINDS:
        raise _invalid(f"the root element must be one of {', '.join(sorted(KNOWN_KINDS))}, not {kind}")
    if kind == "ExternalQuestion":
        return ParsedQuestion(
            kind, external_url=_required_text(root, "ExternalURL"), frame_height=_height(root)
        )
    if kind == "HTMLQuestion":
        return ParsedQuestion(
            kind, html_content=_required_text(root, "HTMLContent"), frame_height=_height(root)
        )
    return ParsedQuestion(kind, form_fields=_form_fields(root))


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


def _child(root: ET.Element, name: str) -> ET.Element | None:
    return next((el for el in root.iter() if _local_name(el.tag) == name), None)


def _required_text(root: ET.Element, name: str) -> str:
    element = _child(root, name)
    text = (element.text or "").strip() if element is not None else ""
    if not text:
        raise _invalid(f"{_local_name(root.tag)} needs a non-empty {name}")
    return text


def _height(root: ET.Element) -> int:
    element = _child(root, "FrameHeight")
    text = (element.text or "").strip() if element is not None else "0"
    if not text.isdigit():
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
