"""Legal Research Support in the portal and as JSON APIs.

Pages: ``/legal`` (search, ask, verify) and ``/legal/laws/{law_id}/articles/{article}`` (the article
view). APIs: ``GET /api/legal/search``, ``POST /api/legal/verify``, ``POST /api/legal/ask``.
The model is called through the gateway, so guard, usage and audit apply as for chat.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from gennai.apps.legal.search import SearchHit
from gennai.apps.legal.service import LegalInputError, LegalResearch
from gennai.audit.log import record_event
from gennai.db.models import User
from gennai.gateway.base import ChatMessage, ChatRequest, ProviderError
from gennai.gateway.registry import UnknownModelError
from gennai.guard.policy import GuardRefusal
from gennai.web.deps import PortalUser, ServicesDep, app_caller
from gennai.web.pages import render

router = APIRouter()
LegalCaller = Annotated[User, Depends(app_caller("legal"))]
PROMPT_OVERHEAD_TOKENS = 600  # the rules and the question around the statute text in a prompt


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _hit_json(hit: SearchHit) -> dict[str, Any]:
    return {
        "law_id": hit.law_id,
        "law_title": hit.law_title,
        "article": hit.article,
        "paragraph": hit.paragraph,
        "text": hit.text,
        "score": round(hit.score, 4),
        "path": hit.path_label,
        "caption": hit.caption,
        "url": f"/legal/laws/{hit.law_id}/articles/{hit.article}",
    }


def _legal(services: ServicesDep) -> LegalResearch:
    return services.legal


@router.get("/api/legal/search", response_model=None)
async def search_api(
    user: LegalCaller,
    services: ServicesDep,
    q: Annotated[str, Query(max_length=10_000)] = "",
    law: str | None = None,
    law_type: str | None = None,
    as_of: date | None = None,
    limit: Annotated[int, Query()] = 10,
) -> Response:
    try:
        hits = await _legal(services).search(q, law=law, law_type=law_type, as_of=as_of, limit=limit, caller=user.id)
    except LegalInputError as error:
        return _error(400, error.code, str(error))
    except GuardRefusal as refusal:
        return _error(403, "refused_by_guard", str(refusal))
    await record_event(
        services.sessions,
        actor_id=user.id,
        action="legal.search",
        outcome="ok",
        detail={"results": len(hits), "law": law},
    )
    return JSONResponse({"results": [_hit_json(hit) for hit in hits]})


class VerifyRequest(BaseModel):
    text: str = Field(max_length=1_000_000)
    as_of: date | None = None


@router.post("/api/legal/verify", response_model=None)
async def verify_api(body: VerifyRequest, user: LegalCaller, services: ServicesDep) -> Response:
    try:
        checks = await _legal(services).verify(body.text, body.as_of)
    except LegalInputError as error:
        return _error(400, error.code, str(error))
    await record_event(
        services.sessions,
        actor_id=user.id,
        action="legal.verify",
        outcome="ok",
        detail={"citations": len(checks), "unverified": sum(c.status != "verified" for c in checks)},
    )
    return JSONResponse({"citations": [check.to_json() for check in checks]})


class AskRequest(BaseModel):
    question: str = Field(max_length=1_000_000)
    form: str = "overview"
    as_of: date | None = None
    law: str | None = None
    model: str | None = None


@router.post("/api/legal/ask", response_model=None)
async def ask_api(body: AskRequest, user: LegalCaller, services: ServicesDep) -> Response:
    model = body.model or services.models.default
    try:
        spec = services.models.spec(model)
    except KeyError:
        return _error(400, "unknown_model", f"unknown model: {model}")
    budget = spec.prompt_chars(PROMPT_OVERHEAD_TOKENS)

    async def generate(messages: list[dict[str, str]]) -> str:
        chat = [ChatMessage("system" if m["role"] == "system" else "user", m["content"]) for m in messages]
        request = ChatRequest(chat, max_tokens=spec.max_output_tokens, temperature=0.1)
        return await services.gateway.complete(user.id, model, request, source="app", target="legal")

    try:
        answer = await _legal(services).ask(
            body.question,
            generate,
            form=body.form,
            as_of=body.as_of,
            law=body.law,
            source_chars=max(budget, 500),
            caller=user.id,
        )
    except LegalInputError as error:
        return _error(400, error.code, str(error))
    except UnknownModelError as error:
        return _error(400, "unknown_model", str(error))
    except GuardRefusal as refusal:
        return _error(403, "refused_by_guard", str(refusal))
    except ProviderError as failure:
        return _error(502, "model_failed", str(failure))
    return JSONResponse(
        {
            "answer": answer.text,
            "all_verified": answer.all_verified,
            "citations": [check.to_json() for check in answer.citations],
            "sources": [
                {
                    "number": s.number,
                    "label": s.label,
                    "law_id": s.provision.ref.law_id,
                    "article": s.provision.ref.article,
                    "paragraph": s.provision.ref.paragraph,
                }
                for s in answer.sources
            ],
        }
    )


@router.get("/legal", response_class=HTMLResponse)
async def legal_page(
    request: Request,
    user: PortalUser,
    services: ServicesDep,
    q: Annotated[str, Query(max_length=10_000)] = "",
    law: str = "",
) -> Response:
    hits: list[SearchHit] = []
    error = None
    if q.strip():
        try:
            hits = await _legal(services).search(q, law=law or None, limit=20, caller=user.id)
        except LegalInputError as problem:
            error = problem.code
        except GuardRefusal:
            error = "refused_by_guard"
    laws = await _legal(services).store.list_laws()
    return render(
        request,
        "legal.html",
        {"q": q, "law": law, "hits": hits, "laws": laws, "error": error, "searched": bool(q.strip())},
    )


@router.get("/legal/laws/{law_id}/articles/{article}", response_class=HTMLResponse)
async def article_page(
    law_id: str, article: str, request: Request, user: PortalUser, services: ServicesDep, as_of: date | None = None
) -> Response:
    view = await _legal(services).article(law_id, article, as_of)
    if view is None:
        return render(request, "error.html", {"code": "not_found"}, status_code=404)
    return render(request, "legal_article.html", {"view": view})
