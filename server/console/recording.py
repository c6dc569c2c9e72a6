"""Settings → SCIM Provisioning → Traffic recording: start a recording of this practice's
SCIM traffic for a chosen time, see until when it runs, stop it, download the trace.

Administrators only (``provide_admin``); every form posts through the console's CSRF guard;
everything is scoped to the signed-in practice, never to a practice named in the URL.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide

from server.console.auth import Viewer, provide_admin, provide_viewer
from server.console.render import HEADERS, redirect
from server.domain.errors import DomainError
from server.persistence.repositories.record_windows import window_store
from server.practices.recording import DURATIONS, RecordingService
from server.services import Services

__all__ = ["RecordingController", "recording_service", "recording_view"]

HOME = "/console/settings/scim"
NOTICES = {
    "recording_started": "Recording started. Every SCIM request of this practice is recorded "
    "until the time shown.",
    "recording_stopped": "Recording stopped. The trace so far can be downloaded.",
    "recording_refused": "Choose how long to record: 15 minutes, 1 hour or 24 hours.",
    "no_trace": "There is no trace to download: nothing was recorded on this server yet.",
}


def recording_service(services: Services) -> RecordingService:
    settings = services.settings
    windows = window_store(settings.database_url)
    return RecordingService(windows, services.store.audit, settings.record_dir)


async def recording_view(
    request: Request[Any, Any, Any], services: Services, viewer: Viewer
) -> dict[str, Any]:
    """What the SCIM settings page shows of the practice's recording."""
    recording = recording_service(services)
    window = await recording.window(viewer.practice.id)
    return {
        "window": window,
        "on": window is not None and window.on(recording.now()),
        "has_trace": bool(recording.traces(viewer.practice.id, window)),
        "durations": [(value, label) for value, (label, _) in DURATIONS.items()],
        "notice": NOTICES.get(request.query_params.get("notice", "")),
    }


class RecordingController(Controller):
    path = "/console/settings/scim/recording"
    include_in_schema = False
    dependencies = {  # noqa: RUF012
        "viewer": Provide(provide_viewer),
        "admin": Provide(provide_admin),
    }

    @post("/start")
    async def start(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        form = await request.form()
        try:
            await recording_service(services).start(
                admin.practice.id, str(form.get("duration", "")), actor=admin.actor
            )
        except DomainError:
            return redirect(f"{HOME}?notice=recording_refused#recording-h")
        return redirect(f"{HOME}?notice=recording_started#recording-h")

    @post("/stop")
    async def stop(
        self, admin: NamedDependency[Viewer], services: NamedDependency[Services]
    ) -> Response[Any]:
        await recording_service(services).stop(admin.practice.id, actor=admin.actor)
        return redirect(f"{HOME}?notice=recording_stopped#recording-h")

    @get("/trace")
    async def trace(
        self, admin: NamedDependency[Viewer], services: NamedDependency[Services]
    ) -> Response[Any]:
        found = await recording_service(services).trace(admin.practice.id, actor=admin.actor)
        if found is None:
            return redirect(f"{HOME}?notice=no_trace#recording-h")
        name, text = found
        return Response(
            content=text,
            media_type="application/x-ndjson",
            headers={
                **HEADERS,
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )
