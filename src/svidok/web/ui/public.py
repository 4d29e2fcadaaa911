"""Public pages: the submission form, its receipt, adding information later. No JavaScript needed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from svidok.access.routes import operation
from svidok.domain.vocabulary import vocabulary
from svidok.errors import InputError
from svidok.services.intake import URGENT_REASONS, ContactNotAccepted, ReceiptRefused
from svidok.web.i18n import translator
from svidok.web.state import WebState, state_of
from svidok.web.ui import forms
from svidok.web.ui.render import lang_of, render
from svidok.web.uploads import Refusal, take

router = APIRouter(include_in_schema=False)


def _form_context(state: WebState, values: dict[str, object], errors: dict[str, str]) -> dict[str, object]:
    web = state.web
    return {
        "values": values,
        "errors": errors,
        "injury_codes": vocabulary("injury_type").codes,
        "urgent_reasons": list(URGENT_REASONS),
        "author_roles": forms.AUTHOR_ROLES,
        "precisions": forms.PRECISIONS,
        "victims": range(1, forms.VICTIMS + 1),
        "perpetrators": range(1, forms.PERPETRATORS + 1),
        "contact_open": state.intake.officer_key(state.context()) is not None,
        "max_files": web.max_files,
        "max_mb": web.max_file_mb,
    }


async def _form(request: Request) -> tuple[FormData, str]:
    state = state_of(request)
    form = await request.form(max_files=state.web.max_files + 5, max_fields=200)
    lang_field = form.get("lang")
    return form, lang_of(request, lang_field if isinstance(lang_field, str) else None)


@router.get("/", response_class=HTMLResponse)
@router.get("/submit", response_class=HTMLResponse)
@operation("submission.create")
async def submission_form(request: Request) -> HTMLResponse:
    state = state_of(request)
    context = await run_in_threadpool(_form_context, state, forms.values_of(FormData()), {})
    return render(request, "submit.html", context)


@router.post("/submit", response_class=HTMLResponse)
@operation("submission.create")
async def submit(request: Request) -> HTMLResponse:
    state = state_of(request)
    form, lang = await _form(request)
    tr = translator(lang)
    try:
        with state.spool.open() as where:
            parsed = await run_in_threadpool(forms.parse, form, lang, tr, state.web, where)
            if parsed.draft is not None:
                try:
                    receipt = await run_in_threadpool(state.intake.submit, state.context(), parsed.draft)
                    return render(request, "receipt.html", {"receipt": receipt}, status=201, lang=lang)
                except ContactNotAccepted:
                    parsed.errors["contact"] = tr.gettext(
                        "Contact details cannot be protected on this server yet, so nothing was stored. "
                        "Remove them to send your testimony without them; your receipt lets you add "
                        "information later."
                    )
                except InputError as exc:
                    parsed.errors["form"] = str(exc)
    finally:
        await form.close()
    context = await run_in_threadpool(_form_context, state, parsed.values, parsed.errors)
    return render(request, "submit.html", context, status=422, lang=lang)


@router.get("/add", response_class=HTMLResponse)
@operation("submission.receipt")
async def add_form(request: Request) -> HTMLResponse:
    state = state_of(request)
    return render(request, "add.html", {"values": {}, "errors": {}, "max_files": state.web.max_files})


@router.post("/add", response_class=HTMLResponse)
@operation("submission.receipt")
async def add(request: Request) -> HTMLResponse:
    state = state_of(request)
    form, lang = await _form(request)
    tr = translator(lang)
    values = {k: forms._text(form, k, 20_000) for k in ("code", "text")}
    errors: dict[str, str] = {}
    try:
        with state.spool.open() as where:
            files = [f for f in form.getlist("files") if not isinstance(f, str) and f.filename]
            uploads = []
            for index, upload in enumerate(files[: state.web.max_files]):
                got = take(
                    where,
                    index,
                    upload.filename or "file",
                    upload.file,
                    max_bytes=state.web.max_file_bytes,
                    accepted=state.web.accepted_types,
                )
                if isinstance(got, Refusal):
                    errors["files"] = tr.gettext("{name}: this file was not accepted.", name=got.name)
                else:
                    uploads.append(got)
            if not errors:
                passphrase = forms._text(form, "passphrase", 200)
                try:
                    await run_in_threadpool(
                        state.intake.add_information,
                        state.context(),
                        values["code"],
                        passphrase,
                        values["text"],
                        uploads,
                    )
                    return render(request, "added.html", {}, lang=lang)
                except ReceiptRefused:
                    errors["code"] = tr.gettext("The receipt code and passphrase do not match.")
                except InputError:
                    errors["text"] = tr.gettext("Write something or attach a file.")
    finally:
        await form.close()
    return render(
        request,
        "add.html",
        {"values": values, "errors": errors, "max_files": state.web.max_files},
        status=422,
        lang=lang,
    )
