"""``/api/v1/``: each app contributes a router; OpenAPI at ``/api/v1/openapi.json``."""

from __future__ import annotations

from ninja import NinjaAPI

from rapport.accounts.api import SessionWithSecondFactor
from rapport.accounts.api import router as accounts_router
from rapport.api.problems import install_problem_handlers
from rapport.booking.api import public_router as booking_public_router
from rapport.care.api import router as care_router
from rapport.care.api_alerts import router as care_alerts_router
from rapport.care.api_checkins import router as care_check_ins_router
from rapport.care.api_graduation import router as care_graduation_router
from rapport.directory.api import public_router as directory_public_router
from rapport.directory.api import staff_router as directory_staff_router
from rapport.matching.api import router as matching_router
from rapport.messaging.api import router as messaging_router

api = NinjaAPI(
    title="Rapport API",
    version="1",
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    # The interactive docs page loads scripts the strict CSP would have to allow; the
    # OpenAPI document is enough for clients and code generators.
    docs_url=None,
    # Session cookie authentication with CSRF checks on unsafe methods, and the second factor
    # for therapists and staff; public routers below opt out with auth=None.
    auth=SessionWithSecondFactor(csrf=True),
)
install_problem_handlers(api)
# Public, read-only directory data: no session, so no CSRF token either. First, because the
# busiest calls (search, profiles) then match the first patterns Django tries.
api.add_router("/therapists", directory_public_router, auth=None)
api.add_router("/me", accounts_router)
api.add_router("/staff", directory_staff_router)
api.add_router("/engagements", care_router)
api.add_router("/threads", messaging_router)
# /check-ins and /instruments (one router: the paths are its own).
api.add_router("", care_check_ins_router)
api.add_router("", care_alerts_router)  # /alerts and /engagements/{id}/end
api.add_router("", care_graduation_router)  # /engagements/{id}/graduate
# Free times and consultations: open to people without accounts (see rapport.booking.api).
api.add_router("", booking_public_router, auth=None)
# /fit-profiles and /match/feedback (signed in); /match is open to everyone, like search (its
# own auth=None: no session needed, so no CSRF token either).
api.add_router("", matching_router)
