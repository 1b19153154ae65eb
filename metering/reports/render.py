"""Templates → HTML → PDF, fast enough for thousands of invoices.

One :class:`Renderer` per process holds the Jinja environment (autoescaping on: tenant names
are untrusted), the stylesheet parsed once, and WeasyPrint's font configuration. Bulk
rendering runs in long-lived worker processes (each builds its renderer once) and shows a
rich progress bar. Every file is written atomically (temp + ``os.replace``), so a killed run
leaves either a whole PDF or none, and the next run renders only what is missing.
"""

from __future__ import annotations

import multiprocessing
import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from metering.processes import die_with_parent
from metering.reports import formatting, i18n
from metering.resources import resource_dir


def template_env(
    templates: Path | None = None, catalog: str = i18n.SOURCE_LANGUAGE
) -> jinja2.Environment:
    """The Jinja environment for ``reports/`` in one catalog's language (metering.reports.i18n):
    autoescape always, undefined names are errors, ``{% trans %}`` blocks trimmed."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates or resource_dir("reports"))),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["ext.i18n.trimmed"] = True
    translations = i18n.translations(catalog)
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    env.globals["catalog"] = translations
    env.filters["money"] = formatting.money
    env.filters["amount"] = formatting.amount
    env.filters["unit_price"] = formatting.unit_price
    env.filters["qty"] = formatting.quantity
    env.filters["percent"] = formatting.percent
    env.filters["date"] = formatting.long_date
    return env


def _documents_html_class(ua: Any) -> Any:
    """WeasyPrint's ``HTML`` with ``reports/ua.css`` as its user-agent stylesheet: the HTML
    defaults of the elements our templates use instead of WeasyPrint's whole one (same
    layout, ~20% less CPU per invoice). ``_ua_stylesheets`` is WeasyPrint's hook for it; if
    a later WeasyPrint stops calling it, its own stylesheet applies: slower, not wrong."""
    from weasyprint import HTML

    class DocumentHTML(HTML):  # type: ignore[misc]
        def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
            return [ua]

    return DocumentHTML


class Renderer:
    """Renders named templates to HTML and PDF; build one per process and reuse it."""

    def __init__(self, templates: Path | None = None) -> None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        self.templates = templates or resource_dir("reports")
        self._envs: dict[str, jinja2.Environment] = {}
        self.fonts = FontConfiguration()
        self.css_text = (self.templates / "report.css").read_text(encoding="utf-8")
        self.css = CSS(string=self.css_text, font_config=self.fonts)
        self.html_class = _documents_html_class(CSS(filename=str(self.templates / "ua.css")))

    def env(self, locale: str = i18n.SOURCE_LANGUAGE) -> jinja2.Environment:
        """The environment of ``locale``'s catalog (one per catalog, built once)."""
        catalog = i18n.catalog_for(locale)
        if catalog not in self._envs:
            self._envs[catalog] = template_env(self.templates, catalog)
        return self._envs[catalog]

    def html(self, template: str, context: dict[str, Any]) -> str:
        """``template`` rendered in the language of ``context["locale"]`` (English without)."""
        env = self.env(context.get("locale", i18n.SOURCE_LANGUAGE))
        return env.get_template(template).render(**context)

    def pdf(
        self,
        html: str,
        attachments: Sequence[tuple[str, bytes]] = (),
        at: datetime | None = None,
        *,
        facturx: bytes | None = None,
    ) -> bytes:
        """The PDF of ``html``; attachments dated ``at`` (an issued document's issue time:
        WeasyPrint dates them at render time otherwise, so rendering it again changed bytes).
        ``facturx``: a CII invoice; the PDF is then a Factur-X: PDF/A-3b with it attached as
        ``factur-x.xml`` (relationship Data) and the Factur-X XMP in its metadata."""
        from weasyprint import Attachment

        files = [
            Attachment(string=data, name=name, created=at, modified=at)
            for name, data in attachments
        ]
        options: dict[str, Any] = {}
        if facturx is not None:
            from metering.einvoice.xml import FACTURX_FILENAME

            files.append(
                Attachment(
                    string=facturx,
                    name=FACTURX_FILENAME,
                    description="Factur-X invoice (EN 16931)",
                    created=at,
                    modified=at,
                    relationship="Data",
                )
            )
            options = {"pdf_variant": "pdf/a-3b", "finisher": _facturx_finisher}
        doc = self.html_class(string=html, base_url=str(self.templates))
        with warnings.catch_warnings():
            # WeasyPrint 70 opens its sRGB profile for PDF/A and never closes it
            warnings.filterwarnings("ignore", r"unclosed file .*sRGB2014\.icc", ResourceWarning)
            result = doc.write_pdf(
                stylesheets=[self.css], font_config=self.fonts, attachments=files, **options
            )
        assert isinstance(result, bytes)
        return result


def _facturx_finisher(document: Any, pdf: Any) -> None:
    """Before WeasyPrint writes a Factur-X PDF: its Factur-X XMP goes into the one ``rdf:RDF``
    of the PDF/A metadata (WeasyPrint's ``xmp_metadata`` would add a second ``rdf:RDF``, which
    XMP readers that take the first one never see), and each associated file is listed once
    in the catalog's ``/AF`` (WeasyPrint 70 lists each twice)."""
    import pydyf

    from metering.einvoice.xml import facturx_xmp, merge_into_xmp

    reference = pdf.catalog["Metadata"]  # "N 0 R", as bytes
    number = reference.decode() if isinstance(reference, bytes) else str(reference)
    metadata = pdf.objects[int(number.split()[0])]
    metadata.stream = [merge_into_xmp(b"".join(metadata.stream), facturx_xmp())]
    if "AF" in pdf.catalog:
        pdf.catalog["AF"] = pydyf.Array(dict.fromkeys(pdf.catalog["AF"]))


# -- bulk rendering in worker processes ---------------------------------------------------

_WORKER: dict[str, Any] = {}


@dataclass(frozen=True)
class Job:
    """One document to render: ``task`` is a picklable function run with the worker's renderer."""

    key: str
    task: Callable[[Renderer, Any], None]
    payload: Any


def _init_worker(templates: str, parent: int) -> None:
    die_with_parent(parent)
    _WORKER["renderer"] = Renderer(Path(templates))


def _ready() -> str:
    return ""


def _run(job: Job) -> str:
    job.task(_WORKER["renderer"], job.payload)
    return job.key


class RenderPool:
    """One set of long-lived render workers for a whole close (invoices, credit notes and the
    provider report), started at the first batch big enough to pay for them.

    Jobs submitted before the pool starts, or when there are fewer than ``2 × workers`` of
    them, render in this process at :meth:`wait`. Workers are *spawned* (a forked copy of a
    process holding DuckDB threads is unsafe) and each builds its :class:`Renderer` (WeasyPrint,
    fonts, the stylesheet) once, so the main process can keep working (the provider report,
    FOCUS) while they render. Workers die with this process, even on ``kill -9``
    (:func:`metering.processes.die_with_parent`): none goes on writing PDFs behind a killed close.
    """

    def __init__(self, workers: int, *, label: str, show_progress: bool = True) -> None:
        self.workers = workers
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        self._progress = Progress(*columns, disable=not show_progress, transient=True)
        self._bar = self._progress.add_task(label, total=0)
        self._pool: ProcessPoolExecutor | None = None
        self._futures: list[Future[str]] = []
        self._local: list[Job] = []

    def __enter__(self) -> RenderPool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
        self._progress.stop()

    def start(self) -> None:
        """Start the workers now, so they load WeasyPrint while this process goes on (hashing,
        issuing); a no-op with one worker or once started."""
        if self._pool is not None or self.workers <= 1:
            return
        self._pool = ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(str(resource_dir("reports")), os.getpid()),
        )
        for _ in range(self.workers):  # workers are spawned on demand: ask for all of them
            self._pool.submit(_ready)

    def submit(self, jobs: Sequence[Job]) -> None:
        """Queue ``jobs``; start the workers if this batch is worth them."""
        if not jobs:
            return
        self._progress.start()
        self._progress.update(self._bar, total=len(self._futures) + len(self._local) + len(jobs))
        if len(jobs) >= 2 * self.workers:
            self.start()
        if self._pool is None:
            self._local.extend(jobs)
            return
        self._futures.extend(self._pool.submit(_run, job) for job in jobs)

    def wait(self) -> list[str]:
        """Render what is local, wait for the workers; return the keys done. A failure stops
        the run with its error."""
        done: list[str] = []
        if self._local:
            renderer = Renderer()
            for job in self._local:
                job.task(renderer, job.payload)
                done.append(job.key)
                self._progress.advance(self._bar)
            self._local = []
        for future in as_completed(self._futures):
            done.append(future.result())
            self._progress.advance(self._bar)
        self._futures = []
        return done


def render_all(
    jobs: Iterable[Job], *, workers: int, label: str, show_progress: bool = True
) -> list[str]:
    """Run every job, in ``workers`` long-lived processes when there are enough jobs to pay
    for starting them; return the keys done. A failure stops the run with its error."""
    with RenderPool(workers, label=label, show_progress=show_progress) as pool:
        pool.submit(list(jobs))
        return pool.wait()
