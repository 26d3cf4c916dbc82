"""Experiment packages: a hosted-tasks study as a folder (or its zip), read and checked completely.

The format is documented, file by file and field by field, in docs/hosted-package.md; the demo
package is experiments/workflow/demo_package/. A package is:

    manifest.json       the study's settings (title, pay, shares, qualification, training)
    instructions.md     the intro page: instructions and consent, plain text (shown escaped)
    task.html           the task template: HTML with ${column} placeholders and the answer fields
    items.csv           the real items, one per row (columns = placeholders)
    qualification.csv   optional: test items with their answers (expected_<field>)
    training.csv        optional: training items with their answers and an explanation

`read_package` raises `PackageError` naming the file (and field) at fault, so an invalid package
is a clear form error; `hosted_create` turns a valid one into an Experiment with its study.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import transaction

from crowdhr import audit
from crowdhr.audit import User
from experiments.batches import read_items
from experiments.models import Experiment
from experiments.workflow import qualification
from experiments.workflow.models import HOSTED_KIND, HostedStudy, Item
from hits.services import ServiceError
from hits.task_types import ConfigError, TemplateBatch, check_config

__all__ = ["ConfigError", "check_config"]
from platforms.models import PlatformAccount

FORMAT = 1
MAX_PACKAGE_BYTES = 20 * 1024 * 1024
REQUIRED_FILES = ("manifest.json", "instructions.md", "task.html", "items.csv")
OPTIONAL_FILES = ("qualification.csv", "training.csv")
EXPECTED = "expected_"
EXPLANATION = "explanation"


class PackageError(ValueError):
    """The package cannot work; `where` names the file (and field) at fault."""

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where


@dataclass
class Package:
    manifest: dict[str, Any]
    instructions: str
    template: str
    items: list[dict[str, str]]
    qualification: list[dict[str, str]] = field(default_factory=list)
    training: list[dict[str, str]] = field(default_factory=list)

    @property
    def answer_fields(self) -> list[str]:
        return list(self.manifest.get("answer_fields") or ["answer"])


# --- reading ------------------------------------------------------------------------------------
def files_from_zip(data: bytes) -> dict[str, bytes]:
    """The package's files from a zip (at its top, or in one top folder); sizes checked first."""
    if len(data) > MAX_PACKAGE_BYTES:
        raise PackageError(f"The package is larger than {MAX_PACKAGE_BYTES // (1024 * 1024)} MB.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise PackageError("The upload is not a zip file.") from error
    infos = [info for info in archive.infolist() if not info.is_dir() and "__MACOSX" not in info.filename]
    if sum(info.file_size for info in infos) > MAX_PACKAGE_BYTES:
        raise PackageError("The package unpacks to more than 20 MB.")
    files = {}
    for info in infos:
        name = info.filename.rsplit("/", 1)[-1]
        if name in REQUIRED_FILES + OPTIONAL_FILES:
            if name in files:
                raise PackageError(f"The zip holds {name} twice.")
            files[name] = archive.read(info)
    return files


def files_from_folder(folder: Path) -> dict[str, bytes]:
    return {
        name: (folder / name).read_bytes()
        for name in REQUIRED_FILES + OPTIONAL_FILES
        if (folder / name).is_file()
    }


def read_package(files: dict[str, bytes]) -> Package:
    """The package in `files` (name -> content), checked; PackageError otherwise."""
    missing = [name for name in REQUIRED_FILES if name not in files]
    if missing:
        raise PackageError(f"The package lacks {', '.join(missing)} (see docs/hosted-package.md).")
    manifest = _manifest(files["manifest.json"])
    package = Package(
        manifest=manifest,
        instructions=_text(files["instructions.md"], "instructions.md"),
        template=_text(files["task.html"], "task.html"),
        items=_csv(files["items.csv"], "items.csv"),
        qualification=_csv(files["qualification.csv"], "qualification.csv")
        if "qualification.csv" in files
        else [],
        training=_csv(files["training.csv"], "training.csv") if "training.csv" in files else [],
    )
    _check(package)
    return package


def _text(data: bytes, name: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PackageError("must be UTF-8 text.", name) from error
    if not text.strip():
        raise PackageError("is empty.", name)
    return text


def _csv(data: bytes, name: str) -> list[dict[str, str]]:
    try:
        return read_items(data)
    except ServiceError as error:
        raise PackageError(str(error), name) from error


def _manifest(data: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(_text(data, "manifest.json"))
    except json.JSONDecodeError as error:
        raise PackageError(
            f"is not valid JSON ({error.msg}, line {error.lineno}).", "manifest.json"
        ) from error
    if not isinstance(manifest, dict):
        raise PackageError("must be a JSON object.", "manifest.json")
    if manifest.get("format") != FORMAT:
        raise PackageError(f'"format" must be {FORMAT}.', "manifest.json")
    for name in ("name", "title", "description"):
        if not isinstance(manifest.get(name), str) or not manifest[name].strip():
            raise PackageError(f'"{name}" is required text.', "manifest.json")
    if len(manifest["title"]) > 128:
        raise PackageError('"title" is at most 128 characters.', "manifest.json")
    _money(manifest, "reward", minimum=Decimal("0.01"))
    _money(manifest, "pay_per_task", minimum=Decimal("0"))
    for name, low, high in (
        ("tasks_per_worker", 1, 10_000),
        ("answers_per_item", 1, 100),
        ("agreements_required", 1, 100),
        ("duration_minutes", 1, 7 * 24 * 60),
    ):
        value = manifest.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise PackageError(f'"{name}" must be a whole number from {low} to {high}.', "manifest.json")
    if manifest["agreements_required"] > manifest["answers_per_item"]:
        raise PackageError('"agreements_required" cannot exceed "answers_per_item".', "manifest.json")
    return manifest


def _money(manifest: dict[str, Any], name: str, *, minimum: Decimal) -> Decimal:
    try:
        value = Decimal(str(manifest.get(name)))
    except InvalidOperation as error:
        raise PackageError(f'"{name}" must be an amount in dollars, e.g. "0.50".', "manifest.json") from error
    if not value.is_finite() or value < minimum or value != value.quantize(Decimal("0.01")):
        raise PackageError(f'"{name}" must be at least {minimum}, in whole cents.', "manifest.json")
    return value


def _check(package: Package) -> None:
    fields = package.answer_fields
    try:
        task = check_config("template_batch", {"template": package.template, "answer_fields": fields})
    except ConfigError as error:
        where = "task.html" if error.setting == "template" else 'manifest.json "answer_fields"'
        raise PackageError(str(error), where) from error
    assert isinstance(task, TemplateBatch)
    placeholders = set(task.placeholders())
    for name, rows in (
        ("items.csv", package.items),
        ("qualification.csv", package.qualification),
        ("training.csv", package.training),
    ):
        if rows:
            missing = sorted(placeholders - set(rows[0]))
            if missing:
                raise PackageError(f"lacks the template's column(s) {', '.join(missing)}.", name)
    for name, rows in (("qualification.csv", package.qualification), ("training.csv", package.training)):
        if rows:
            absent = [f"{EXPECTED}{f}" for f in fields if f"{EXPECTED}{f}" not in rows[0]]
            if absent:
                raise PackageError(f"needs the answer column(s) {', '.join(absent)}.", name)
            empty = next(
                (
                    n
                    for n, row in enumerate(rows, start=2)
                    if any(not row.get(f"{EXPECTED}{f}") for f in fields)
                ),
                None,
            )
            if empty:
                raise PackageError(f"row {empty} has no answer.", name)
    _check_qualification(package)
    _check_training(package)


def _check_qualification(package: Package) -> None:
    spec = package.manifest.get("qualification")
    if spec is None:
        if package.qualification:
            raise PackageError(
                'qualification.csv is given but the manifest has no "qualification".', "manifest.json"
            )
        return
    where = 'manifest.json "qualification"'
    if not isinstance(spec, dict):
        raise PackageError("must be an object.", where)
    if not package.qualification:
        raise PackageError("needs qualification.csv, the test's items with their answers.", where)
    if not isinstance(spec.get("name"), str) or not spec["name"].strip() or len(spec["name"]) > 100:
        raise PackageError('"name" is required: workers who passed the test of this name skip it.', where)
    try:
        qualification.check_args(spec.get("function", "quiz"), spec.get("args", {}))
    except qualification.QualificationError as error:
        argument = f' argument "{error.argument}"' if error.argument else ""
        raise PackageError(str(error), f"{where}{argument}") from error
    days = spec.get("valid_days", 30)
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise PackageError('"valid_days" must be a whole number of days, at least 1.', where)
    if spec.get("on_fail", "reward") not in HostedStudy.OnFail.values:
        raise PackageError('"on_fail" is "reward" or "nothing".', where)


def _check_training(package: Package) -> None:
    spec = package.manifest.get("training") or {}
    where = 'manifest.json "training"'
    if not isinstance(spec, dict):
        raise PackageError("must be an object.", where)
    count = spec.get("count", len(package.training))
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise PackageError('"count" must be a whole number.', where)
    if count > len(package.training):
        raise PackageError(f'"count" is {count} but training.csv has {len(package.training)} item(s).', where)
    if not isinstance(spec.get("paid", False), bool):
        raise PackageError('"paid" is true or false.', where)


# --- creating -----------------------------------------------------------------------------------
def hosted_create(*, owner: Any, account: PlatformAccount, package: Package, by: User | None) -> HostedStudy:
    """An unpublished hosted-tasks experiment from a checked package."""
    m = package.manifest
    spec = m.get("qualification") or {}
    training = m.get("training") or {}
    with transaction.atomic():
        experiment = Experiment.objects.create(
            owner=owner,
            account=account,
            name=m["name"][:200],
            kind=HOSTED_KIND,
            task_type="template_batch",
            task_config={"template": package.template, "answer_fields": package.answer_fields},
            title=m["title"],
            description=m["description"],
            keywords=str(m.get("keywords", ""))[:1000],
            reward=Decimal(str(m["reward"])),
            duration_seconds=m["duration_minutes"] * 60,
            assignments_required=m["answers_per_item"],
            agreements_required=m["agreements_required"],
        )
        study = HostedStudy.objects.create(
            experiment=experiment,
            instructions=package.instructions,
            consent=str(m.get("consent") or HostedStudy._meta.get_field("consent").default)[:300],
            task_template=package.template,
            answer_fields=",".join(package.answer_fields),
            qualification_name=spec.get("name", ""),
            qualification_function=spec.get("function", "quiz"),
            qualification_args=spec.get("args", {}),
            qualification_valid_days=spec.get("valid_days", 30),
            on_fail=spec.get("on_fail", HostedStudy.OnFail.REWARD),
            training_count=training.get("count", len(package.training)),
            training_paid=training.get("paid", False),
            pay_per_task=Decimal(str(m["pay_per_task"])),
            tasks_per_worker=m["tasks_per_worker"],
            answers_per_item=m["answers_per_item"],
            agreements_required=m["agreements_required"],
        )
        items = [_item(study, Item.Kind.TASK, n, row, package) for n, row in enumerate(package.items, 1)]
        items += [
            _item(study, Item.Kind.QUALIFICATION, n, row, package)
            for n, row in enumerate(package.qualification, 1)
        ]
        items += [
            _item(study, Item.Kind.TRAINING, n, row, package) for n, row in enumerate(package.training, 1)
        ]
        Item.objects.bulk_create(items)
    audit.record(by=by, action="create hosted tasks", obj=experiment, items=len(package.items))
    return study


def _item(study: HostedStudy, kind: str, number: int, row: dict[str, str], package: Package) -> Item:
    inputs = {k: v for k, v in row.items() if not k.startswith(EXPECTED) and k != EXPLANATION}
    expected = None
    if kind != Item.Kind.TASK:
        expected = {f: row[f"{EXPECTED}{f}"] for f in package.answer_fields}
    return Item(
        study=study,
        kind=kind,
        number=number,
        inputs=inputs,
        expected=expected,
        explanation=row.get(EXPLANATION, ""),
    )


def render_item(study: HostedStudy, inputs: dict[str, Any]) -> str:
    """The task template filled with one item's values (escaped), as the worker sees it."""
    task = TemplateBatch({"template": study.task_template, "answer_fields": study.fields})
    return task.question_html(inputs)
