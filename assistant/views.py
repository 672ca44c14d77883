from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from assistant import health


@never_cache
@require_GET
def healthz(request):
    """Report the database and the broker; 503 when the database cannot be reached."""
    database = health.database_state()
    body = {
        "database": database,
        "broker": health.broker_state(),
        "worker_seconds_since_heartbeat": health.worker_seconds_since_heartbeat(),
    }
    return JsonResponse(body, status=200 if database == "ok" else 503)


@require_GET
def home(request):
    """Show the search box and the language picker."""
    return render(request, "assistant/home.html")
