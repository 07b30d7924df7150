"""Sets request.team from the signed-in user's first team (or the X-Team header)."""


class CurrentTeamMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from .models import Team

        request.team = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            teams = Team.objects.filter(members=user).order_by("pk")
            wanted = request.headers.get("X-Team")
            request.team = (teams.filter(pk=wanted) if wanted else teams).first()
        return self.get_response(request)
